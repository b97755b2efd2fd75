# Práctico 2: completá cada TODO de este archivo y corré `pytest exercises`.
# (Generado con `python -m grader build-stubs` a partir de la solución de referencia.)
"""Ejercicio 1: primer intento, salida sigmoide y MSE contra vectores one-hot.

Una red con una capa oculta sigmoide y 10 salidas sigmoides, entrenada para
acercarse, en mínimos cuadrados, al vector one-hot de cada etiqueta: el dígito 3
se codifica ``[0, 0, 0, 1, 0, 0, 0, 0, 0, 0]`` (el 1 va en la posición del dígito).
No es la mejor manera de clasificar, pero es un buen punto de partida.

Tarea ``onehot_mse``: completar ``one_hot`` y ``train_model0``.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch
import torch.nn as nn
from matplotlib.figure import Figure


class SimpleNet(nn.Module):
    """784 -> width (sigmoide) -> 10 (sigmoide).

    Entrada: ``(B, 1, 28, 28)`` o ``(B, 784)``. Salida: ``(B, 10)`` con valores en (0, 1).
    """

    def __init__(self, width: int = 128) -> None:
        super().__init__()
        self.hidden = nn.Linear(28 * 28, width)
        self.output = nn.Linear(width, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(x.shape[0], -1)  # aplanar cada imagen a un vector de 784
        x = torch.sigmoid(self.hidden(x))
        return torch.sigmoid(self.output(x))


def init_normal(module: nn.Module) -> None:
    """Pesos de cada ``nn.Linear`` ~ N(0, 1) y bias en cero. Se usa con ``model.apply``."""
    if isinstance(module, nn.Linear):
        nn.init.normal_(module.weight, mean=0.0, std=1.0)
        nn.init.zeros_(module.bias)


def one_hot(y: torch.Tensor, num_classes: int = 10) -> torch.Tensor:
    """Codifica etiquetas enteras como vectores one-hot.

    Entradas:
    - y: tensor long ``(B,)`` con etiquetas en ``0 .. num_classes - 1``.
    - num_classes: largo de cada vector.

    Devuelve:
    - tensor float32 ``(B, num_classes)``, en el mismo dispositivo que ``y``, con un 1
      en la columna ``y[i]`` de la fila ``i`` y 0 en el resto. No modifica ``y``.
    """
    # TODO [onehot_mse]: implementá one_hot (ver la docstring).
    raise NotImplementedError('[onehot_mse] Falta implementar one_hot en ex1_onehot_mse.py (TODO). / one_hot is not implemented yet.')


def train_model0(
    model: nn.Module,
    train_loader: Iterable,
    val_loader: Iterable,
    optimizer: torch.optim.Optimizer,
    epochs: int = 5,
    device: str = "cpu",
) -> dict[str, list[float]]:
    """Entrena ``model`` con MSE entre su salida y el one-hot de las etiquetas.

    Entradas:
    - model: red con salida ``(B, 10)``.
    - train_loader, val_loader: iterables de lotes ``(X, y)`` con ``X (B, 1, 28, 28)`` e
      ``y`` long ``(B,)`` (un ``DataLoader`` o el cargador rápido del kit); tienen ``len``.
    - optimizer: optimizador ya construido sobre ``model.parameters()``.
    - epochs: cantidad de pasadas por ``train_loader``.
    - device: dónde correr (``"cpu"`` o ``"cuda"``).

    En cada época:
    - entrenamiento, con el modelo en modo ``train()``: por cada lote, gradientes en
      cero, forward, pérdida ``nn.MSELoss()`` (promedio sobre los B x 10 valores) contra
      ``one_hot(y)``, backward y un paso del optimizador;
    - validación, en modo ``eval()`` y sin gradientes (``torch.no_grad()``): pérdida
      MSE y accuracy (la clase predicha es el ``argmax`` de la salida).

    Devuelve:
    - ``{"train_loss": [...], "val_loss": [...], "val_acc": [...]}``, un float por época:
      promedio de la pérdida de los lotes, y fracción de aciertos en validación.
    """
    # TODO [onehot_mse]: implementá train_model0 (ver la docstring).
    raise NotImplementedError('[onehot_mse] Falta implementar train_model0 en ex1_onehot_mse.py (TODO). / train_model0 is not implemented yet.')


def evaluate_accuracy(model: nn.Module, loader: Iterable, device: str = "cpu") -> float:
    """Fracción de ejemplos de ``loader`` cuya clase predicha (``argmax``) es la etiqueta."""
    model.to(device)
    model.eval()
    correct, seen = 0, 0
    with torch.no_grad():
        for X, y in loader:
            X, y = X.to(device), y.to(device)
            correct += (model(X).argmax(dim=1) == y).sum().item()
            seen += y.shape[0]
    return correct / seen


def show_prediction(
    model: nn.Module, test_ds, index: int, device: str = "cpu"
) -> tuple[Figure, np.ndarray]:
    """Pasa la imagen ``index`` de test por ``model`` y muestra la predicción.

    Devuelve:
    - fig: la imagen con la etiqueta real y la predicha en el título.
    - probabilities: array ``(10,)``, el ``softmax`` de la salida (suma 1).
    """
    image, label = test_ds[index]
    model.to(device)
    model.eval()
    with torch.no_grad():
        output = model(image.unsqueeze(0).to(device))
    probabilities = torch.softmax(output, dim=1).squeeze(0).cpu().numpy()
    fig = Figure(figsize=(3, 3))
    ax = fig.add_subplot()
    ax.imshow(image.squeeze().cpu().numpy(), cmap="gray")
    ax.set_title(f"Real: {int(label)}  Predicción: {int(probabilities.argmax())}")
    ax.axis("off")
    return fig, probabilities
