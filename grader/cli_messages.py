"""The command line's texts in Spanish and English (issue 22 items 3-4), merged into
:data:`grader.messages.MESSAGES`.

- ``ap_*``: argparse's own words (:mod:`grader.cli_language` puts them in its place); they
  keep argparse's ``%(name)s`` / ``%s`` / ``%r`` placeholders, which argparse fills in;
- ``cli_*``: every command's description and every option's help (a literal ``%`` is written
  once here: :func:`grader.cli_language.helptext` doubles it for argparse);
- ``err_*``: bad input from the person at the terminal (:class:`grader.options.UserError`);
- ``ag_*``: what ``autograde`` says on the terminal while it grades;
- ``rg_*``: the regrade preview (``autograde --dry-run`` / ``--apply``, :mod:`grader.regrade`).
"""

from __future__ import annotations

CLI_MESSAGES: dict[str, dict[str, str]] = {
    # ------------------------------------------------------------- argparse's own words
    "ap_usage": {"es": "uso: ", "en": "usage: "},
    "ap_options": {"es": "opciones", "en": "options"},
    "ap_positionals": {"es": "argumentos posicionales", "en": "positional arguments"},
    "ap_help": {"es": "muestra esta ayuda y termina", "en": "show this help message and exit"},
    "ap_error": {"es": "%(prog)s: error de uso: %(message)s\n",
                 "en": "%(prog)s: error: %(message)s\n"},
    "ap_argument": {"es": "argumento %(argument_name)s: %(message)s",
                    "en": "argument %(argument_name)s: %(message)s"},
    "ap_required": {"es": "faltan estos argumentos, que son obligatorios: %s",
                    "en": "the following arguments are required: %s"},
    "ap_unrecognized": {"es": "argumentos desconocidos: %s", "en": "unrecognized arguments: %s"},
    "ap_invalid_choice": {"es": "opción inválida: %(value)r (elegí una de %(choices)s)",
                          "en": "invalid choice: %(value)r (choose from %(choices)s)"},
    "ap_invalid_value": {"es": "valor inválido (%(type)s): %(value)r",
                         "en": "invalid %(type)s value: %(value)r"},
    "ap_expected_one": {"es": "falta su valor (uno)", "en": "expected one argument"},
    "ap_expected_at_most_one": {"es": "admite a lo sumo un valor",
                                "en": "expected at most one argument"},
    "ap_expected_at_least_one": {"es": "necesita al menos un valor",
                                 "en": "expected at least one argument"},
    "ap_expected_n_one": {"es": "necesita %s valor", "en": "expected %s argument"},
    "ap_expected_n": {"es": "necesita %s valores", "en": "expected %s arguments"},
    "ap_not_allowed_with": {"es": "no se puede usar junto con el argumento %s",
                            "en": "not allowed with argument %s"},
    "ap_one_required": {"es": "hace falta uno de los argumentos %s",
                        "en": "one of the arguments %s is required"},
    "ap_ambiguous": {"es": "opción ambigua: %(option)s puede ser %(matches)s",
                     "en": "ambiguous option: %(option)s could match %(matches)s"},
    "ap_ignored_explicit": {"es": "se ignoró el valor explícito %r",
                            "en": "ignored explicit argument %r"},
    "ap_unknown_parser": {"es": "comando desconocido %(parser_name)r (comandos: %(choices)s)",
                          "en": "unknown parser %(parser_name)r (choices: %(choices)s)"},
    "ap_cannot_open": {"es": "no se puede abrir '%(filename)s': %(error)s",
                       "en": "can't open '%(filename)s': %(error)s"},
    "ap_unexpected_option": {"es": "opción inesperada: %s", "en": "unexpected option string: %s"},
    # option types (grader/options.py)
    "ap_not_whole_number": {"es": "{value} no es un número entero",
                            "en": "{value} is not a whole number"},
    "ap_at_least_one": {"es": "tiene que ser al menos 1; se dio {number}",
                        "en": "must be at least 1, got {number}"},
    "ap_not_a_number": {"es": "{value} no es un número", "en": "{value} is not a number"},
    "ap_share": {"es": "indicá una fracción entre 0 y 1; se dio {number}",
                 "en": "give a share between 0 and 1, got {number}"},
    "ap_variant_min": {"es": "tiene que ser 0 (las entradas públicas) o más; se dio {number}",
                       "en": "must be 0 (the public inputs) or more, got {number}"},
    # ------------------------------------------------------------- python -m grader
    "cli_description": {"es": "Kit del Práctico 2: consignas, calificación, experimentos",
                        "en": "Práctico 2 kit: stubs, grading, experiments"},
    "cli_interrupted": {"es": "interrumpido", "en": "interrupted"},
    "cli_commands": {"es": "comandos", "en": "commands"},
    "cli_command": {"es": "COMANDO", "en": "COMMAND"},
    "cli_error": {"es": "hay un problema: {message}", "en": "error: {message}"},
    # shared options (grader/options.py, SHARED_OPTIONS)
    "cli_opt_device": {
        "es": "dónde corren las pruebas y se entrenan los modelos: cpu (por omisión), cuda, "
              "o auto (cuda donde la haya)",
        "en": "where probes run and models train: cpu (the default), cuda, or auto (cuda "
              "where it is available)"},
    "cli_opt_lang": {
        "es": "idioma de los mensajes y los informes (por omisión: $PRACTICO_LANG; si no está, "
              "es)",
        "en": "language of the messages and reports (default: $PRACTICO_LANG, else es)"},
    "cli_opt_tasks": {"es": "calificar solo estas tareas", "en": "grade only these tasks"},
    "cli_opt_timeout": {
        "es": "segundos de reloj por prueba (por omisión: según el costo de cada una)",
        "en": "wall seconds allowed per check (default: from each check's cost)"},
    "cli_opt_variant": {
        "es": "variante de las entradas: 0 (por omisión) es la pública; las otras se generan "
              "con el secreto del curso, $PRACTICO_SECRET",
        "en": "input variant: 0 (the default) is the public one; others draw hidden inputs "
              "from the course secret, $PRACTICO_SECRET"},
    "cli_opt_unsafe": {
        "es": "donde no hay namespaces de Linux y el proceso hijo no puede dejar de ser root "
              "(una carpeta necesaria bajo otra cerrada, como /root), calificar igual, como "
              "root (solo con código de confianza; sin esta opción el calificador se niega)",
        "en": "where Linux namespaces are unavailable and the child cannot leave root (a "
              "needed folder under a closed one such as /root), grade anyway, as root "
              "(trusted code only; without it the grader refuses)"},
    # pytest exercises (grader/pytest_plugin.py)
    "cli_pytest_impl": {
        "es": "carpeta con los ex*.py a revisar: 'solutions', 'exercises' o cualquier ruta "
              "(por omisión: la carpeta de los archivos de test)",
        "en": "folder with the ex*.py files to check: 'solutions', 'exercises' or any path "
              "(default: the folder of the test files)"},
    # grade
    "cli_grade": {"es": "calificar la carpeta de una entrega",
                  "en": "grade one submission folder"},
    "cli_grade_submission": {"es": "carpeta con los ex*.py del estudiante",
                             "en": "folder holding the student's ex*.py"},
    "cli_grade_json": {"es": "escribir los resultados como JSON en OUT",
                       "en": "write the results as JSON to OUT"},
    "cli_grade_children": {
        "es": "procesos hijos que califican la entrega a la vez, cada uno sobre módulos "
              "enteros (por omisión: 2, o 1 con un solo núcleo)",
        "en": "children that grade the submission at once, each over whole modules "
              "(default: 2, or 1 on a single core)"},
    "cli_grade_in_process": {
        "es": "correr el código en este proceso, sin aislamiento (solo código de confianza)",
        "en": "run the code in this process, without isolation (trusted code only)"},
    # build-stubs
    "cli_stubs": {"es": "generar exercises/ a partir de solutions/",
                  "en": "generate exercises/ from solutions/"},
    "cli_stubs_solutions": {"es": "la carpeta de las soluciones (por omisión: la del kit)",
                            "en": "the solutions folder (default: the kit's)"},
    "cli_stubs_exercises": {"es": "la carpeta de las consignas (por omisión: la del kit)",
                            "en": "the exercises folder (default: the kit's)"},
    "cli_stubs_check": {
        "es": "no escribir nada; salir con 1 si exercises/ difiere de lo que se generaría",
        "en": "do not write; exit 1 if exercises/ differs from what would be generated"},
    # autograde
    "cli_autograde": {"es": "calificar cada carpeta de estudiante de una raíz, en paralelo",
                      "en": "grade every student folder of a root, in parallel"},
    "cli_autograde_root": {"es": "carpeta con una subcarpeta por estudiante",
                           "en": "folder with one subfolder per student"},
    "cli_autograde_out": {
        "es": "carpeta de los resultados (grades.csv, students/<nombre>/, el informe de la "
              "clase)",
        "en": "results folder (grades.csv, students/<name>/, the class report)"},
    "cli_autograde_jobs": {
        "es": "estudiantes calificados a la vez (por omisión: la cantidad de CPU)",
        "en": "students graded at once (default: the CPU count)"},
    "cli_autograde_force": {"es": "volver a calificar a quienes ya están calificados",
                            "en": "grade again students already graded"},
    "cli_autograde_names": {
        "es": "el informe de la clase dice qué estudiantes hay detrás de cada número (no "
              "mostrarlo en clase)",
        "en": "the class report says which students are behind every count (do not show it "
              "in class)"},
    "cli_autograde_dry_run": {
        "es": "vista previa de una recalificación: calificar en una carpeta aparte y mostrar "
              "a quién le cambiaría el puntaje, y por qué, sin escribir nada en RESULTS_DIR",
        "en": "regrade preview: grade into a scratch folder and show whose score would "
              "change, and why, writing nothing in RESULTS_DIR"},
    "cli_autograde_apply": {
        "es": "escribir la recalificación en RESULTS_DIR, reusando lo que calificó --dry-run "
              "mientras siga valiendo (el mismo kit, los mismos archivos, las mismas opciones)",
        "en": "write the regrade into RESULTS_DIR, reusing what --dry-run graded while it "
              "still holds (same kit, same files, same options)"},
    "cli_autograde_scratch": {
        "es": "la carpeta aparte de --dry-run y --apply (por omisión, una por RESULTS_DIR "
              "bajo ~/.cache/practico2/regrade/)",
        "en": "the scratch folder of --dry-run and --apply (default: one per RESULTS_DIR "
              "under ~/.cache/practico2/regrade/)"},
    # experiments
    "cli_experiments": {
        "es": "volver a correr cada experimento del práctico; figuras y un informe",
        "en": "re-run every experiment of the practical; figures and a report"},
    "cli_experiments_description": {
        "es": "Vuelve a correr cada experimento del práctico con una implementación, dibuja "
              "las figuras y escribe report.html / report.md / results.json.",
        "en": "Re-run every experiment of the practical with an implementation, draw the "
              "figures and write report.html / report.md / results.json."},
    "cli_experiments_impl": {
        "es": "carpeta con los ex*.py a correr (por omisión: la referencia)",
        "en": "folder with the ex*.py files to run (default: the reference)"},
    "cli_experiments_out": {
        "es": "carpeta de las figuras y los informes (por omisión: ./report)",
        "en": "folder for figures and reports (default: ./report)"},
    "cli_experiments_epochs": {
        "es": "épocas de MNIST por modelo (por omisión: 15 como en el práctico, 3 con --quick)",
        "en": "MNIST epochs per model (default: 15 as in the practical, 3 with --quick)"},
    "cli_experiments_quick": {
        "es": "presupuestos cortos: todo en alrededor de un minuto con 2 núcleos",
        "en": "short budgets: the whole run in about a minute on 2 CPU cores"},
    "cli_experiments_threads": {
        "es": "hilos de CPU para torch (por omisión: 1, lo más rápido para estas redes chicas "
              "con lotes de 64; ver bench/epoch_speed.py)",
        "en": "CPU threads for torch (default: 1, the fastest for these small nets at batch "
              "64; see bench/epoch_speed.py)"},
    "cli_experiments_jobs": {
        "es": "experimentos a la vez, cada uno en su proceso con --threads hilos de torch (por "
              "omisión: la cantidad de CPU, a lo sumo 9; 1: uno tras otro en este proceso). "
              "Los mismos números en ambos casos",
        "en": "experiments run at once, each in its own process with --threads torch threads "
              "(default: the CPU count, at most 9; 1: one after the other in this process). "
              "Same numbers either way"},
    # release, notebook
    "cli_release": {"es": "armar la versión para estudiantes en OUT_DIR",
                    "en": "build the student release in OUT_DIR"},
    "cli_release_out": {"es": "una carpeta nueva (o vacía)", "en": "a new (or empty) folder"},
    "cli_release_force": {"es": "reemplazar OUT_DIR si lo hizo un `release` anterior",
                          "en": "replace OUT_DIR if an earlier `release` made it"},
    "cli_notebook": {"es": "generar el notebook fuente de nbgrader a partir de solutions/",
                     "en": "generate the nbgrader source notebook from solutions/"},
    "cli_notebook_check": {
        "es": "no escribir nada; salir con 1 si el notebook difiere de lo que se generaría",
        "en": "do not write; exit 1 if the notebook differs from what would be generated"},
    # nbgrader-autograde
    "cli_nbgrader": {
        "es": "nbgrader autograde, varios estudiantes a la vez, en un solo libro de notas",
        "en": "nbgrader autograde, several students at once, into one gradebook"},
    "cli_nbgrader_course": {"es": "la carpeta del curso de nbgrader (tiene nbgrader_config.py)",
                            "en": "the nbgrader course folder (holds nbgrader_config.py)"},
    "cli_nbgrader_assignment": {
        "es": "la tarea a calificar (por omisión: la única del libro de notas)",
        "en": "assignment to grade (default: the gradebook's only assignment)"},
    "cli_nbgrader_jobs": {"es": "estudiantes calificados a la vez (por omisión: la cantidad "
                                "de CPU)",
                          "en": "students graded at once (default: the CPU count)"},
    "cli_nbgrader_force": {
        "es": "volver a calificar a quienes ya tienen su carpeta en autograded/",
        "en": "grade again students that already have an autograded folder"},
    "cli_nbgrader_timeout": {
        "es": "segundos de reloj para todo el autograde de un estudiante (por omisión: 3600)",
        "en": "wall seconds for one student's whole autograde (default: 3600)"},
    # class-report
    "cli_class_report": {"es": "el informe de una clase calificada, para el docente (HTML y "
                               "JSON)",
                         "en": "the instructor's report of a graded class (HTML and JSON)"},
    "cli_class_report_folder": {
        "es": "una carpeta de resultados de autograde, o la carpeta de un curso de nbgrader",
        "en": "an autograde results folder, or an nbgrader course folder"},
    "cli_class_report_names": {
        "es": "decir qué estudiantes hay detrás de cada número (no mostrarlo en clase)",
        "en": "say which students are behind every count (do not show it in class)"},
    "cli_class_report_assignment": {
        "es": "curso de nbgrader: la tarea (por omisión: la única con resultados)",
        "en": "nbgrader course: the assignment (default: the only one with results)"},
    # export
    "cli_export": {"es": "las notas a Canvas o Moodle: su archivo CSV de importación",
                   "en": "grades into Canvas or Moodle: their CSV import file"},
    "cli_export_description": {
        "es": "Escribe el archivo de importación de notas del LMS a partir de SOURCE: una "
              "carpeta de resultados de autograde (tiene students/; solo cuentan los "
              "result.json que firmó este kit) o la carpeta de un curso de nbgrader (tiene "
              "nbgrader_config.py; se lee su libro de notas). Quienes no tienen una nota "
              "usable, no están en la lista de la clase, o están en la lista sin entrega se "
              "listan en stderr y detienen la exportación (salida 1) salvo con "
              "--allow-incomplete.",
        "en": "Write the LMS's grade import file from SOURCE: an autograde results folder (it "
              "holds students/; only result.json files this kit signed count) or an nbgrader "
              "course folder (it holds nbgrader_config.py; read through its gradebook). "
              "Students with no usable grade, missing from the roster, or in the roster with "
              "no submission are listed on stderr and stop the export (exit 1) unless "
              "--allow-incomplete."},
    "cli_export_source": {
        "es": "carpeta de resultados de autograde, o carpeta de un curso de nbgrader",
        "en": "autograde results folder, or nbgrader course folder"},
    "cli_export_to": {"es": "el LMS: canvas o moodle", "en": "the LMS: canvas or moodle"},
    "cli_export_roster": {
        "es": "CSV: una columna 'folder' (carpeta del estudiante o id de nbgrader) y las "
              "columnas de identidad del LMS (Canvas: Student, ID, SIS User ID, SIS Login ID, "
              "Section; Moodle: Email address y/o ID number)",
        "en": "CSV: a 'folder' column (student folder or nbgrader id) and the LMS's identity "
              "columns (Canvas: Student, ID, SIS User ID, SIS Login ID, Section; Moodle: "
              "Email address and/or ID number)"},
    "cli_export_out": {"es": "el archivo a escribir", "en": "the file to write"},
    "cli_export_moodle_id": {
        "es": "Moodle: la columna que identifica a cada estudiante (por omisión: email)",
        "en": "Moodle: the column that identifies a student (default: email)"},
    "cli_export_assignment": {
        "es": "nbgrader: exportar esta tarea (se puede repetir; por omisión: todas; Moodle "
              "toma exactamente una)",
        "en": "nbgrader: export this assignment (repeatable; default: all of them; Moodle "
              "takes exactly one)"},
    "cli_export_title": {
        "es": "el encabezado de la columna de la nota (Canvas: 'Título (id de la tarea)' "
              "actualiza esa tarea)",
        "en": "the grade column's header (Canvas: 'Title (assignment id)' updates that "
              "assignment)"},
    "cli_export_allow_incomplete": {
        "es": "escribir el archivo aunque queden estudiantes afuera (se listan igual)",
        "en": "write the file even when students are left out (they are listed)"},
    # similarity
    "cli_similarity": {
        "es": "pares de estudiantes con código inusualmente parecido (un informe, nunca "
              "parte de una nota)",
        "en": "pairs of students whose code is unusually alike (a report, never part of a "
              "grade)"},
    "cli_similarity_description": {
        "es": "Compara el código propio de cada estudiante (sus archivos de ejercicios menos "
              "el código inicial dado) y escribe DIR/similarity.html (autocontenido) y "
              "DIR/similarity.csv: los pares más parecidos, por archivo, con las regiones "
              "coincidentes lado a lado. Usa copydetect (y el MinHash LSH de datasketch para "
              "elegir qué pares comparar en una clase grande).",
        "en": "Compare every student's own code (their exercise files less the given starter "
              "code) and write DIR/similarity.html (self-contained) and DIR/similarity.csv: "
              "the most similar pairs, per file, with the matching regions side by side. Uses "
              "copydetect (and datasketch's MinHash LSH to pick the pairs to compare in a "
              "large class)."},
    "cli_similarity_class": {"es": "carpeta con una subcarpeta por estudiante",
                             "en": "folder with one subfolder per student"},
    "cli_similarity_out": {"es": "la carpeta del informe", "en": "the report's folder"},
    "cli_similarity_starter": {
        "es": "el código inicial que recibió cada estudiante (por omisión: exercises/ del kit)",
        "en": "the starter code every student got (default: the kit's exercises/)"},
    "cli_similarity_threshold": {
        "es": "señalar un par cuyo puntaje (la fracción media del código de cada uno que "
              "aparece en el del otro) llega a X (por omisión 0.5)",
        "en": "flag a pair whose score (the mean share of each one's code found in the "
              "other's) reaches X (default 0.5)"},
    "cli_similarity_min_tokens": {
        "es": "y que tiene al menos N tokens en común (por omisión 100)",
        "en": "and that has at least N matched tokens (default 100)"},
    "cli_similarity_prefilter": {
        "es": "prefiltro MinHash LSH: on, off, o auto (on a partir de 50.000 pares)",
        "en": "MinHash LSH pre-filter: on, off, or auto (on above 50,000 pairs)"},
    "cli_similarity_top": {"es": "pares listados (por omisión 50)",
                           "en": "pairs listed (default 50)"},
    "cli_similarity_detail": {
        "es": "pares mostrados con su código lado a lado (por omisión 20)",
        "en": "pairs shown with their code side by side (default 20)"},
    "cli_similarity_jobs": {"es": "procesos (por omisión: la cantidad de CPU)",
                            "en": "processes (default: the CPU count)"},
    # autograde on a Dask cluster (grader/cluster.py)
    "cli_cluster_group": {
        "es": "en un clúster de Dask (necesita el extra cluster: pip install -e '.[cluster]')",
        "en": "on a Dask cluster (needs the cluster extra: pip install -e '.[cluster]')"},
    "cli_cluster_kind": {
        "es": "calificar en workers de Dask: 'local' arranca --jobs procesos worker acá; "
              "slurm/pbs/sge envían trabajos batch de workers",
        "en": "grade on Dask workers: 'local' starts --jobs worker processes here; "
              "slurm/pbs/sge submit batch jobs of workers"},
    "cli_cluster_scheduler": {
        "es": "calificar en los workers de un scheduler de Dask que ya está corriendo",
        "en": "grade on the workers of a running Dask scheduler"},
    "cli_cluster_workers": {
        "es": "slurm/pbs/sge: procesos worker en total, un estudiante a la vez cada uno (por "
              "omisión 4)",
        "en": "slurm/pbs/sge: worker processes in all, one student at a time each (default "
              "4)"},
    "cli_cluster_cores": {
        "es": "slurm/pbs/sge: núcleos de un trabajo batch; cada uno corre esa cantidad de "
              "workers (por omisión 1)",
        "en": "slurm/pbs/sge: cores of one batch job; each runs that many workers (default "
              "1)"},
    "cli_cluster_memory": {
        "es": "slurm/pbs/sge: memoria de un trabajo batch, p. ej. 16GiB (por omisión 8GiB por "
              "núcleo)",
        "en": "slurm/pbs/sge: memory of one batch job, e.g. 16GiB (default 8GiB per core)"},
    "cli_cluster_walltime": {
        "es": "slurm/pbs/sge: tiempo de reloj de un trabajo batch (por omisión 01:00:00)",
        "en": "slurm/pbs/sge: wall time of one batch job (default 01:00:00)"},
    "cli_cluster_queue": {
        "es": "slurm/pbs/sge: la cola (partición de Slurm) a la que enviar",
        "en": "slurm/pbs/sge: the queue (Slurm partition) to submit to"},
    "cli_cluster_account": {
        "es": "slurm/pbs/sge: la cuenta (proyecto de SGE) a la que se carga",
        "en": "slurm/pbs/sge: the account (SGE project) to charge"},
    # ------------------------------------------------------------- bad input (UserError)
    "err_no_class_folder": {
        "es": "{root}: no existe esa carpeta. Indicá la carpeta que tiene una subcarpeta por "
              "estudiante.",
        "en": "{root}: no such folder. Give the folder that holds one subfolder per student."},
    "err_not_a_folder": {"es": "{path}: no es una carpeta.", "en": "{path}: not a folder."},
    "err_out_inside_root": {
        "es": "--out {out} está dentro de {root}: se calificaría como un estudiante más. "
              "Poné los resultados en otro lado.",
        "en": "--out {out} is inside {root}: it would be graded as a student. Put the "
              "results somewhere else."},
    "err_root_inside_out": {
        "es": "{root} está dentro de --out {out}: los archivos de los estudiantes quedarían "
              "entre los resultados (y podrían pasar por ellos). Poné la clase y los "
              "resultados en dos carpetas separadas.",
        "en": "{root} is inside --out {out}: students' files would lie among the results (and "
              "could pass for them). Put the class and the results in two separate folders."},
    "err_permission": {"es": "{folder}: no se puede leer esta carpeta (permiso denegado).",
                       "en": "{folder}: cannot read this folder (permission denied)."},
    "err_no_students": {
        "es": "{root}: no tiene carpetas de estudiantes (se espera una subcarpeta por "
              "estudiante, cada una con sus archivos ex*.py).",
        "en": "{root}: holds no student folders (expected one subfolder per student, each "
              "with their ex*.py files)."},
    "err_no_submission_folder": {
        "es": "{folder}: no existe esa carpeta. Indicá la carpeta que tiene los archivos "
              "ex*.py del estudiante.",
        "en": "{folder}: no such folder. Give the folder that holds the student's ex*.py "
              "files."},
    "err_impl_no_folder": {
        "es": "--impl {impl}: no existe esa carpeta (se buscó en: {looked}). Indicá una carpeta "
              "que tenga tus archivos ex*.py.",
        "en": "--impl {impl}: no such folder (looked in: {looked}). Give a folder that holds "
              "your ex*.py files."},
    "err_submission_is_file": {
        "es": "{folder}: no es una carpeta. Indicá la carpeta que tiene los ex*.py, no un "
              "archivo.",
        "en": "{folder}: not a folder. Give the folder that holds the ex*.py files, not a "
              "file."},
    "err_no_ex_files": {
        "es": "{folder}: no tiene archivos ex*.py (se espera, por ejemplo, ex1_onehot_mse.py). "
              "¿Es la carpeta correcta?",
        "en": "{folder}: holds no ex*.py files (expected e.g. ex1_onehot_mse.py). Is this the "
              "right folder?"},
    "err_unknown_tasks": {"es": "tarea(s) desconocida(s): {unknown}; las válidas son: {valid}",
                          "en": "unknown task id(s): {unknown}; valid ids: {valid}"},
    "err_device": {"es": "--device {value}: indicá uno de {choices}",
                   "en": "--device {value}: give one of {choices}"},
    "err_no_cuda": {"es": "--device cuda: CUDA no está disponible en esta máquina; usá "
                          "--device cpu",
                    "en": "--device cuda: CUDA is not available on this machine; use "
                          "--device cpu"},
    "err_variant": {"es": "--variant {variant} no se puede usar: {reason}",
                    "en": "--variant {variant} cannot be used: {reason}"},
    "err_out_is_file": {
        "es": "--out {out}: es un archivo; indicá una carpeta para las figuras y los informes "
              "(se crea si no existe).",
        "en": "--out {out}: this is a file; give a folder for the figures and reports (it is "
              "created if missing)."},
    "err_out_unwritable": {
        "es": "--out {out}: no se puede escribir ahí ({reason}); elegí otra carpeta.",
        "en": "--out {out}: cannot write there ({reason}); choose another folder."},
    "err_key_hint": {
        "es": "definí {var} con un archivo tuyo fuera de las carpetas de la clase y de los "
              "resultados (por omisión: ~/.config/practico2/results.key)",
        "en": "set {var} to a file of yours outside the class and results folders (default: "
              "~/.config/practico2/results.key)"},
    "err_key_inside": {
        "es": "la clave de los resultados {path} está dentro de {folder}, donde los archivos "
              "de un estudiante podrían reemplazarla; {hint}",
        "en": "the results key {path} is inside {folder}, where a student's files could "
              "replace it; {hint}"},
    "err_key_unreadable": {
        "es": "no se puede leer ni crear la clave de los resultados {path} ({reason}); {hint}",
        "en": "cannot read or create the results key {path} ({reason}); {hint}"},
    "err_key_not_regular": {
        "es": "la clave de los resultados {path} no es un archivo común de este usuario; "
              "{hint}",
        "en": "the results key {path} is not a regular file of this user; {hint}"},
    "err_key_shared": {
        "es": "otros usuarios pueden leer o escribir la clave de los resultados {path} (modo "
              "{mode}); corré `chmod 600 {path}`",
        "en": "the results key {path} can be read or written by other users (mode {mode}); "
              "run `chmod 600 {path}`"},
    "err_key_malformed": {
        "es": "la clave de los resultados {path} no es una clave que haya escrito este kit "
              "({digits} dígitos hexadecimales); borrala para que se haga una nueva (entonces "
              "se vuelve a calificar a todos)",
        "en": "the results key {path} is not a key this kit wrote ({digits} hex digits); "
              "delete it to make a new one (every student is then graded again)"},
    "err_dry_run_apply": {
        "es": "--dry-run y --apply no van juntos: primero --dry-run (mira), después --apply "
              "(escribe)",
        "en": "--dry-run and --apply do not go together: first --dry-run (look), then --apply "
              "(write)"},
    "err_scratch_overlaps": {
        "es": "--scratch {scratch}: no puede estar dentro de {folder} ni contenerla; elegí "
              "una carpeta aparte",
        "en": "--scratch {scratch}: it may neither lie inside {folder} nor hold it; choose a "
              "folder of its own"},
    "err_scratch_not_ours": {
        "es": "--scratch {scratch}: ya existe y no la hizo `autograde --dry-run` (no tiene "
              "{marker}); elegí una carpeta nueva o vacía",
        "en": "--scratch {scratch}: it exists and was not made by `autograde --dry-run` (it "
              "has no {marker}); choose a new or empty folder"},
    # report_drift (build-stubs --check, notebook --check)
    "drift_out_of_date": {
        "es": "{generated} no está al día con solutions/ (corré `{command}`):",
        "en": "{generated} is out of date with solutions/ (run `{command}`):"},
    "drift_ok": {"es": "{generated} coincide con solutions/",
                 "en": "{generated} matches solutions/"},
    # ------------------------------------------------------------- autograde on the terminal
    "ag_link": {
        "es": "{name}: un enlace simbólico, no se sigue ni se califica (estado {status} en "
              "grades.csv); para calificarlo, poné ahí la carpeta propia del estudiante",
        "en": "{name}: a symbolic link, not followed and not graded (status {status} in "
              "grades.csv); put the student's own folder there to grade it"},
    "ag_unsigned": {
        "es": "{count} result.json anterior(es) sin la firma de este kit con la clave {key}: "
              "se vuelven a calificar ({names})",
        "en": "{count} earlier result.json file(s) not signed by this kit with the key {key}: "
              "graded again ({names})"},
    "ag_and_more": {"es": "{names} y {count} más", "en": "{names} and {count} more"},
    "ag_skipped": {
        "es": "{count} estudiante(s) ya calificado(s) con estos archivos: se saltean (--force "
              "para volver a calificar)",
        "en": "{count} student(s) already graded with these files: skipped (--force to grade "
              "again)"},
    "ag_grader_error": {"es": "{name}: SIN CALIFICAR, error del calificador: {error}",
                        "en": "{name}: NOT GRADED, grader error: {error}"},
    "ag_done": {
        "es": "{count} estudiante(s) calificado(s); puntaje medio {mean}; resultados en "
              "{out}/ (grades.csv, students/<nombre>/, class_report.html)",
        "en": "graded {count} student(s); mean score {mean}; results in {out}/ (grades.csv, "
              "students/<name>/, class_report.html)"},
    "ag_links": {
        "es": "{count} enlace(s) simbólico(s) en {root}: no se siguen ni se califican (estado "
              "{status} en grades.csv)",
        "en": "{count} symbolic link(s) in {root} not followed, not graded (status {status} "
              "in grades.csv)"},
    "ag_errors": {
        "es": "{count} estudiante(s) SIN CALIFICAR por un error del calificador (estado "
              "grader_error en grades.csv; corré de nuevo para reintentar): {names}",
        "en": "{count} student(s) NOT graded because of a grader error (status grader_error "
              "in grades.csv; run again to retry them): {names}"},
    "ag_report_failed": {
        "es": "no se pudo escribir el informe de la clase ({error}); las notas no cambian: "
              "`python -m grader class-report {out}` lo vuelve a intentar",
        "en": "the class report could not be written ({error}); the grades are not affected: "
              "`python -m grader class-report {out}` tries again"},
    # ------------------------------------------------------------- the regrade preview
    "rg_title": {
        "es": "Vista previa de la recalificación: nada se escribió en {out}",
        "en": "Regrade preview: nothing was written in {out}"},
    "rg_none_changes": {
        "es": "A nadie le cambia el puntaje ({graded} de {total} estudiante(s) recalificados "
              "en la carpeta aparte).",
        "en": "Nobody's score changes ({graded} of {total} student(s) regraded in the "
              "scratch folder)."},
    "rg_changes": {
        "es": "A {count} de {total} estudiante(s) les cambia el puntaje:",
        "en": "{count} of {total} student(s) would change score:"},
    "rg_student": {"es": "  {name}: de {old} a {new} ({why})",
                   "en": "  {name}: {old} -> {new} ({why})"},
    "rg_check": {"es": "      {task}/{check}: antes {old}, ahora {new}",
                 "en": "      {task}/{check}: was {old}, now {new}"},
    "rg_check_state": {"es": "{status}, {score} de {max}", "en": "{status}, {score} of {max}"},
    "rg_check_absent": {"es": "no calificada", "en": "not graded"},
    "rg_cause_kit": {"es": "por el kit", "en": "from the kit"},
    "rg_cause_submission": {"es": "por la entrega: {files}", "en": "from the submission: {files}"},
    "rg_cause_options": {"es": "por las opciones: {options}",
                         "en": "from the options: {options}"},
    "rg_cause_unknown": {
        "es": "causa desconocida: el resultado anterior no dice qué lo produjo",
        "en": "cause unknown: the earlier result does not say what produced it"},
    "rg_cause_none": {
        "es": "el mismo kit, los mismos archivos y las mismas opciones: lo cambió la corrida "
              "(un límite de tiempo, una caída)",
        "en": "same kit, files and options: the run itself changed it (a time limit, a "
              "crash)"},
    "rg_and": {"es": " y ", "en": " and "},
    "rg_same_score": {
        "es": "{count} recalificado(s) con el mismo puntaje: {names}",
        "en": "{count} regraded with the same score: {names}"},
    "rg_unchanged": {
        "es": "{count} sin cambios (el mismo kit, los mismos archivos, las mismas opciones): "
              "no se recalifican",
        "en": "{count} unchanged (same kit, files and options): not regraded"},
    "rg_new": {"es": "{count} sin resultado anterior (se calificarían por primera vez): {names}",
               "en": "{count} with no earlier result (would be graded for the first time): "
                     "{names}"},
    "rg_unsigned": {
        "es": "{count} con un result.json anterior sin la firma de este kit (no se compara; "
              "--apply lo reemplaza): {names}",
        "en": "{count} with an earlier result.json not signed by this kit (not compared; "
              "--apply replaces it): {names}"},
    "rg_errors": {
        "es": "{count} sin calificar por un error del calificador (no se compara): {names}",
        "en": "{count} not graded because of a grader error (not compared): {names}"},
    "rg_where": {
        "es": "Lo calificado está en {scratch} (grades.csv, students/, class_report.html, "
              "preview.json). Para escribirlo en {out}:",
        "en": "What was graded is in {scratch} (grades.csv, students/, class_report.html, "
              "preview.json). To write it into {out}:"},
    "rg_reused": {
        "es": "{count} estudiante(s) tomado(s) de la vista previa de {scratch} (el mismo kit, "
              "los mismos archivos, las mismas opciones): no se vuelven a calificar",
        "en": "{count} student(s) taken from the preview in {scratch} (same kit, files and "
              "options): not graded again"},
    "rg_no_preview": {
        "es": "no hay vista previa en {scratch}: --apply califica como una corrida normal",
        "en": "no preview in {scratch}: --apply grades as a normal run"},
}
