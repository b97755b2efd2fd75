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
        # BEGIN SOLUTION ce_net
        self.hidden = nn.Linear(28 * 28, width)
        self.output = nn.Linear(width, 10)
        # END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION ce_net
        x = x.reshape(x.shape[0], -1)
        return self.output(torch.sigmoid(self.hidden(x)))
        # END SOLUTION


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
    # BEGIN SOLUTION ce_net
    model.to(device)
    history: dict[str, list[float]] = {"train_loss": [], "val_loss": [], "val_acc": []}
    for epoch in range(epochs):
        model.train()
        running = 0.0
        for X, y in train_loader:
            X, y = X.to(device), y.to(device)
            optimizer.zero_grad()
            loss = criterion(model(X), y)
            loss.backward()
            optimizer.step()
            running += loss.item()
        history["train_loss"].append(running / len(train_loader))

        model.eval()
        val_running, hits, count = 0.0, 0, 0
        with torch.no_grad():
            for X, y in val_loader:
                X, y = X.to(device), y.to(device)
                logits = model(X)
                val_running += criterion(logits, y).item()
                hits += (logits.argmax(dim=1) == y).sum().item()
                count += y.shape[0]
        history["val_loss"].append(val_running / len(val_loader))
        history["val_acc"].append(hits / count)
        print(
            f"Época {epoch + 1}/{epochs}: train_loss={history['train_loss'][-1]:.4f} "
            f"val_loss={history['val_loss'][-1]:.4f} val_acc={history['val_acc'][-1]:.4f}"
        )
    return history
    # END SOLUTION
