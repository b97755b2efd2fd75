"""Instructor-only tools: student stubs, the course notebook, the student release, and the
kernel client nbgrader runs with. The student release leaves this whole package out."""
