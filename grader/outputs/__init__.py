"""What grading and the experiments write: result JSON, score tables, files written atomically,
progress lines."""
