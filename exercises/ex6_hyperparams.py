# Práctico 2: completá cada TODO de este archivo y corré `pytest exercises`.
# (Generado con `python -m grader build-stubs` a partir de la solución de referencia.)
"""Ejercicio 6: la tasa de aprendizaje y los gradientes que explotan.

Cada paso de descenso por gradiente mueve los pesos ``lr * gradiente``. La pérdida
solo se parece a su aproximación lineal cerca del punto actual: con un ``lr`` demasiado
grande el paso se pasa del valle, cae más arriba en la otra ladera y cada rebote es
peor (la pérdida oscila, crece o termina en ``nan``), o la red queda trabada con
unidades muertas; con uno demasiado chico cada paso es correcto pero minúsculo y, con el
mismo presupuesto de épocas, la red apenas avanza. Entre los dos extremos hay una zona
buena, y la única forma honesta de encontrarla es probar varias tasas en igualdad de
condiciones: mismo modelo inicial (misma semilla), mismos datos, mismo número de pasos.

En una red profunda el gradiente de la primera capa es un producto de las jacobianas de
todas las capas que vienen después (los pesos por la derivada de la activación). Si cada
factor agranda un poco la señal, el producto crece geométricamente con la profundidad:
las capas cercanas a la entrada reciben gradientes órdenes de magnitud mayores y un
solo paso las destruye. Recortar el gradiente por su norma
(``torch.nn.utils.clip_grad_norm_``) reescala *todo* el vector de gradientes para que su
norma total no pase de ``max_norm``: conserva la dirección y solo acorta el paso. Recortar
por valor (``clip_grad_value_``) trunca cada componente por separado y cambia la
dirección; no es lo que se pide aquí.

Tareas ``lr_sweep`` (``lr_sweep``) y ``exploding`` (``grad_norms``, ``train_clipped``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import torch
import torch.nn as nn


def lr_sweep(
    make_model: Callable[[], nn.Module],
    lrs: Sequence[float],
    train_loader: Iterable,
    val_loader: Iterable,
    epochs: int = 1,
    seed: int = 0,
    optimizer_cls: type[torch.optim.Optimizer] = torch.optim.SGD,
    device: str = "cpu",
) -> list[dict[str, list[float]]]:
    """Entrena una copia nueva del mismo modelo con cada tasa de ``lrs`` y devuelve sus curvas.

    Para cada ``lr`` de ``lrs``, en orden:
    1. ``torch.manual_seed(seed)`` y luego ``model = make_model()``: un modelo **nuevo**,
       con los mismos pesos iniciales en todas las corridas;
    2. ``optimizer_cls(model.parameters(), lr=lr)``: un optimizador nuevo con **esa** tasa;
    3. ``epochs`` épocas sobre ``train_loader`` con ``nn.CrossEntropyLoss()`` (etiquetas
       enteras, salida ``(B, 10)`` de logits), en modo ``train()``;
    4. al final de cada época, la exactitud sobre ``val_loader`` en modo ``eval()`` y sin
       gradientes.

    Devuelve una lista con un diccionario por tasa, en el orden de ``lrs``:
    ``{"train_loss": [...], "val_acc": [...]}``, cada uno con ``epochs`` floats:
    - train_loss: el promedio de la pérdida de los lotes de esa época (puede ser ``nan``
      o ``inf`` si la corrida diverge: se reporta tal cual);
    - val_acc: aciertos / ejemplos de validación, en [0, 1].
    """
    # TODO [lr_sweep]: implementá lr_sweep (ver la docstring).
    raise NotImplementedError('[lr_sweep] Falta implementar lr_sweep en ex6_hyperparams.py (TODO). / lr_sweep is not implemented yet.')


def grad_norms(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    criterion: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
) -> list[float]:
    """La norma del gradiente del peso de cada ``nn.Linear`` de ``model`` para un lote.

    Pasos: borrar los gradientes que hubiera, ``loss = criterion(model(X), y)``, backward.

    Entradas: ``X`` ``(B, ...)`` float, ``y`` ``(B,)`` etiquetas enteras.

    Devuelve una lista de floats, uno por capa ``nn.Linear`` (en el orden de
    ``model.modules()``, la capa de entrada primero): la norma L2 (de Frobenius) de
    ``capa.weight.grad``. Una norma por capa, no una sola para todo el modelo.
    """
    # TODO [exploding]: implementá grad_norms (ver la docstring).
    raise NotImplementedError('[exploding] Falta implementar grad_norms en ex6_hyperparams.py (TODO). / grad_norms is not implemented yet.')


def train_clipped(
    model: nn.Module,
    train_loader: Iterable,
    lr: float,
    max_norm: float,
    epochs: int = 1,
    optimizer_cls: type[torch.optim.Optimizer] = torch.optim.SGD,
    device: str = "cpu",
) -> dict[str, list[float]]:
    """Entrena ``model`` con entropía cruzada recortando la norma total del gradiente.

    ``optimizer = optimizer_cls(model.parameters(), lr=lr)``; en cada lote: borrar
    gradientes, pérdida ``nn.CrossEntropyLoss()``, backward, y **antes** de
    ``optimizer.step()``, ``torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)``
    (norma L2 de todos los gradientes juntos; si pasa de ``max_norm``, todos se escalan por
    el mismo factor). ``max_norm=float("inf")`` no recorta nada.

    Devuelve ``{"loss": [...], "grad_norm": [...]}``, un float por paso (por lote):
    - loss: la pérdida de ese lote;
    - grad_norm: la norma total del gradiente **antes** de recortar (lo que devuelve
      ``clip_grad_norm_``).
    """
    # TODO [exploding]: implementá train_clipped (ver la docstring).
    raise NotImplementedError('[exploding] Falta implementar train_clipped en ex6_hyperparams.py (TODO). / train_clipped is not implemented yet.')
