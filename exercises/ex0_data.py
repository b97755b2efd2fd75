# Práctico 2: completá cada TODO de este archivo y corré `pytest exercises`.
# (Generado con `python -m grader build-stubs` a partir de la solución de referencia.)
"""Ejercicio 0: el dataset MNIST.

MNIST son 70.000 dígitos escritos a mano, en escala de grises de 28x28 píxeles:
60.000 para entrenar y 10.000 para test. ``ToTensor`` convierte cada imagen en un
tensor float ``(1, 28, 28)`` con valores en [0, 1].

Tarea ``test_viewer``: completar ``show_test_example``.
"""

from __future__ import annotations

import os

import torch
from matplotlib.figure import Figure
from torch.utils.data import DataLoader, Dataset, Subset
from torchvision import datasets, transforms

from grader.data import ensure_mnist, split_indices


def load_mnist(
    root: str | os.PathLike[str] | None = None, download: bool = True
) -> tuple[Dataset, Dataset]:
    """Carga MNIST con ``ToTensor``.

    Entradas:
    - root: carpeta que contiene ``MNIST/raw/``. Si es ``None`` se usa la variable de
      entorno ``PRACTICO_DATA`` y, si no existe, ``./data``.
    - download: descargar MNIST si no está en disco.

    Devuelve:
    - (train_full, test_ds): datasets de torchvision con 60.000 y 10.000 ejemplos;
      cada ejemplo es ``(imagen float (1, 28, 28) en [0, 1], etiqueta int)``.

    Si MNIST no está y no se puede descargar, lanza un error que dice dónde buscó
    y cómo arreglarlo.
    """
    path = str(ensure_mnist(root, download=download))
    to_tensor = transforms.ToTensor()
    train_full = datasets.MNIST(path, train=True, download=False, transform=to_tensor)
    test_ds = datasets.MNIST(path, train=False, download=False, transform=to_tensor)
    return train_full, test_ds


def split_train_val(
    dataset: Dataset, train_fraction: float = 0.9, seed: int = 0
) -> tuple[Subset, Subset]:
    """Parte ``dataset`` en entrenamiento y validación, siempre de la misma manera.

    Entradas:
    - dataset: un dataset con ``len``; con MNIST completo (60.000) y 0.9 quedan
      54.000 para entrenar y 6.000 para validar.
    - train_fraction: fracción que va a entrenamiento.
    - seed: semilla de la permutación (misma semilla, misma partición).

    Devuelve:
    - (train_ds, val_ds): dos ``Subset`` disjuntos que juntos cubren todo ``dataset``.

    La validación no se usa para calcular gradientes: sirve para seguir el
    entrenamiento con datos que la red no vio.
    """
    train_idx, val_idx = split_indices(len(dataset), train_fraction, seed)
    return Subset(dataset, train_idx), Subset(dataset, val_idx)


def make_loaders(
    train_ds: Dataset, val_ds: Dataset, test_ds: Dataset, batch_size: int = 64
) -> tuple[DataLoader, DataLoader, DataLoader]:
    """Crea los ``DataLoader`` de entrenamiento (mezclado), validación y test.

    Cada lote es ``(X, y)`` con ``X`` float ``(B, 1, 28, 28)`` e ``y`` long ``(B,)``.
    El orden del entrenamiento depende de la semilla global (``torch.manual_seed``).
    """
    train_loader = DataLoader(train_ds, batch_size=batch_size, shuffle=True)
    val_loader = DataLoader(val_ds, batch_size=batch_size, shuffle=False)
    test_loader = DataLoader(test_ds, batch_size=batch_size, shuffle=False)
    return train_loader, val_loader, test_loader


def _digit_figure(image: torch.Tensor, title: str) -> Figure:
    """Una figura con una imagen ``(1, 28, 28)`` o ``(28, 28)`` en grises y un título."""
    fig = Figure(figsize=(3, 3))
    ax = fig.add_subplot()
    ax.imshow(torch.as_tensor(image).squeeze().cpu().numpy(), cmap="gray")
    ax.set_title(title)
    ax.axis("off")
    return fig


def show_example(dataset: Dataset, index: int) -> Figure:
    """Muestra el ejemplo ``index`` de ``dataset`` con su etiqueta en el título.

    Devuelve una ``matplotlib.figure.Figure`` (en Jupyter se dibuja sola; en un
    script se guarda con ``fig.savefig("ejemplo.png")``).
    """
    image, label = dataset[index]
    return _digit_figure(image, f"Etiqueta: {int(label)}")


def show_test_example(test_ds: Dataset, index: int) -> Figure:
    """El mismo visor que ``show_example``, pero para el conjunto de **test**.

    Entradas:
    - test_ds: el dataset de test que devuelve ``load_mnist``.
    - index: posición de la imagen en ``test_ds`` (0 a 9.999).

    Devuelve:
    - una ``Figure`` con esa imagen de test en escala de grises, su etiqueta real
      en el título y los ejes ocultos.
    """
    # TODO [test_viewer]: implementá show_test_example (ver la docstring).
    raise NotImplementedError('[test_viewer] Falta implementar show_test_example en ex0_data.py (TODO). / show_test_example is not implemented yet.')
