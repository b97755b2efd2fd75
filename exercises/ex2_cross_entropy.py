# Práctico 2: completá cada TODO de este archivo y corré `pytest exercises`.
# (Generado con `python -m grader build-stubs` a partir de la solución de referencia.)
"""Ejercicio 2: una pérdida mejor, entropía cruzada sobre logits.

Para clasificar conviene que la red diga *qué tan probable* es cada clase y
penalizar con ``-log p(clase correcta)``. ``nn.CrossEntropyLoss`` recibe los
**logits** (la salida lineal, sin sigmoide ni softmax) y aplica ``log_softmax``
por dentro; aplicar softmax antes sería hacerlo dos veces.

Tarea ``ce_net``: completar ``SNet`` y ``train_model``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
import torch.nn as nn


class SNet(nn.Module):
    """784 -> width (sigmoide) -> 10 logits (salida lineal).

    Entrada: ``(B, 1, 28, 28)`` o ``(B, 784)``. Salida: logits ``(B, 10)``, sin cota.
    """

    def __init__(self, width: int = 128) -> None:
        super().__init__()
        # TODO [ce_net]: implementá SNet.__init__ (ver la docstring).
        raise NotImplementedError('[ce_net] Falta implementar SNet.__init__ en ex2_cross_entropy.py (TODO). / SNet.__init__ is not implemented yet.')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # TODO [ce_net]: implementá SNet.forward (ver la docstring).
        raise NotImplementedError('[ce_net] Falta implementar SNet.forward en ex2_cross_entropy.py (TODO). / SNet.forward is not implemented yet.')


def train_model(
    model: nn.Module,
    train_loader: Iterable,
    val_loader: Iterable,
    optimizer: torch.optim.Optimizer,
    criterion: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    epochs: int = 5,
    device: str = "cpu",
) -> dict[str, list[float]]:
    """Entrena ``model`` minimizando ``criterion(salida, y)`` con etiquetas enteras.

    Igual que ``train_model0`` pero la pérdida es ``criterion`` (por ejemplo
    ``nn.CrossEntropyLoss()``) aplicada a la salida y a las etiquetas ``y`` tal cual,
    sin one-hot.

    Entradas:
    - model: red con salida ``(B, 10)`` (logits).
    - train_loader, val_loader: iterables de lotes ``(X, y)`` con ``len``.
    - optimizer: optimizador sobre ``model.parameters()``.
    - criterion: la pérdida a usar, tanto en entrenamiento como en validación.
    - epochs, device: como en ``train_model0``.

    Devuelve:
    - ``{"train_loss": [...], "val_loss": [...], "val_acc": [...]}``, un float por época,
      con el mismo significado que en ``train_model0`` (modo ``train()`` para entrenar,
      ``eval()`` y sin gradientes para validar).
    """
    # TODO [ce_net]: implementá train_model (ver la docstring).
    raise NotImplementedError('[ce_net] Falta implementar train_model en ex2_cross_entropy.py (TODO). / train_model is not implemented yet.')
