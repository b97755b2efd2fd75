# Práctico 2: completá cada TODO de este archivo y corré `pytest exercises`.
# (Generado con `python -m grader build-stubs` a partir de la solución de referencia.)
"""Ejercicio 3: ¿profundidad o ancho? El problema de paridad.

La etiqueta de una cadena de bits es (cantidad de unos) mod 2. Comparamos una red
llana y ancha (una capa oculta de 128 unidades) con una profunda y angosta
(varias capas de 32), ambas con ReLU y dos logits de salida.

Tarea ``deep_net``: completar ``DeepNet``.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn as nn


def generate_parity_torch(
    n_bits: int = 8, n_samples: int = 1000, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Cadenas de bits al azar y su paridad.

    Entradas:
    - n_bits: largo de cada cadena.
    - n_samples: cantidad de ejemplos.
    - generator: ``torch.Generator`` para que los datos sean reproducibles.

    Devuelve:
    - X: float ``(n_samples, n_bits)`` con valores 0.0 y 1.0.
    - y: long ``(n_samples,)``, 1 si la cantidad de unos es impar y 0 si es par.
    """
    X = torch.randint(0, 2, (n_samples, n_bits), generator=generator).float()
    y = X.sum(dim=1).long() % 2
    return X, y


class ShallowNet(nn.Module):
    """input_dim -> hidden_units (ReLU) -> 2 logits."""

    def __init__(self, input_dim: int, hidden_units: int = 128) -> None:
        super().__init__()
        self.hidden = nn.Linear(input_dim, hidden_units)
        self.output = nn.Linear(hidden_units, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output(torch.relu(self.hidden(x)))


class DeepNet(nn.Module):
    """``depth`` capas ocultas ReLU de ``hidden_units`` cada una, y 2 logits de salida.

    input_dim -> hidden_units -> ... (depth capas ocultas) -> 2.
    Entrada: float ``(B, input_dim)``. Salida: logits ``(B, 2)`` (sin activación).
    """

    def __init__(self, input_dim: int, hidden_units: int = 32, depth: int = 4) -> None:
        super().__init__()
        # TODO [deep_net]: implementá DeepNet.__init__ (ver la docstring).
        raise NotImplementedError('[deep_net] Falta implementar DeepNet.__init__ en ex3_depth.py (TODO). / DeepNet.__init__ is not implemented yet.')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # TODO [deep_net]: implementá DeepNet.forward (ver la docstring).
        raise NotImplementedError('[deep_net] Falta implementar DeepNet.forward en ex3_depth.py (TODO). / DeepNet.forward is not implemented yet.')


def train_net(
    model: nn.Module,
    train_loader: Iterable,
    test_loader: Iterable,
    epochs: int = 40,
    lr: float = 1e-3,
) -> tuple[list[float], list[float]]:
    """Entrena con Adam y entropía cruzada; evalúa en test al final de cada época.

    Devuelve:
    - train_losses: pérdida promedio de los lotes de cada época.
    - test_accuracies: accuracy en ``test_loader`` al final de cada época.
    """
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    train_losses: list[float] = []
    test_accuracies: list[float] = []
    for _ in range(epochs):
        model.train()
        total = 0.0
        for X, y in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(X), y)
            loss.backward()
            optimizer.step()
            total += loss.item()
        train_losses.append(total / len(train_loader))

        model.eval()
        correct, seen = 0, 0
        with torch.no_grad():
            for X, y in test_loader:
                correct += (model(X).argmax(dim=1) == y).sum().item()
                seen += y.shape[0]
        test_accuracies.append(correct / seen)
    return train_losses, test_accuracies
