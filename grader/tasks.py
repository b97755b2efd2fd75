"""The graded tasks of the practical: ids (keys of docs/result-json.md), points, where they live."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Task:
    id: str
    module: str  # the exercise file, without ``.py``
    names: tuple[str, ...]  # what the student writes for this task
    points: int
    title_es: str
    title_en: str

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_es


#: In the order of the practical. Points add up to 120 (sections 1-6: 100; section 7: 20).
TASKS: tuple[Task, ...] = (
    Task("test_viewer", "ex0_data", ("show_test_example",), 10,
         "Visor del conjunto de test", "Test-set viewer"),
    Task("onehot_mse", "ex1_onehot_mse", ("one_hot", "train_model0"), 15,
         "One-hot y entrenamiento con MSE", "One-hot and MSE training"),
    Task("ce_net", "ex2_cross_entropy", ("SNet", "train_model"), 15,
         "Logits y entropía cruzada", "Logits and cross-entropy"),
    Task("deep_net", "ex3_depth", ("DeepNet",), 10,
         "Red profunda para paridad", "Deep net for parity"),
    Task("relu_net", "ex4_activations", ("DeepMLPR",), 10,
         "Red profunda con ReLU", "Deep ReLU net"),
    Task("init_schemes", "ex5_init", ("DeepMLP_i",), 15,
         "Esquemas de inicialización", "Initialization schemes"),
    Task("probe_stats", "ex5_init", ("probe_stats",), 15,
         "Medir activaciones y gradientes", "Probing activations and gradients"),
    Task("he_init", "ex5_init", ("DeepMLPI",), 10,
         "Inicialización de He en MNIST", "He initialization on MNIST"),
    # Section 7, a separate part worth 20 more points: the practical's total is 120.
    Task("lr_sweep", "ex6_hyperparams", ("lr_sweep",), 10,
         "Barrido de la tasa de aprendizaje", "Learning-rate sweep"),
    Task("exploding", "ex6_hyperparams", ("grad_norms", "train_clipped"), 10,
         "Gradientes que explotan y recorte", "Exploding gradients and clipping"),
)

TASK_BY_ID: dict[str, Task] = {t.id: t for t in TASKS}
MODULES: tuple[str, ...] = tuple(dict.fromkeys(t.module for t in TASKS))
MAX_SCORE: int = sum(t.points for t in TASKS)


def get_task(task_id: str) -> Task:
    """The task with that id, or a ``KeyError`` that lists the valid ids."""
    try:
        return TASK_BY_ID[task_id]
    except KeyError:
        raise KeyError(
            f"unknown task id {task_id!r}; valid ids: {', '.join(TASK_BY_ID)}"
        ) from None
