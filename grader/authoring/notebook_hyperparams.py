"""Section 7 of the source notebook (learning rate, exploding gradients): narrative and
experiments, in Spanish. :data:`LAYOUT` is spliced into :data:`grader.authoring.course_notebook.LAYOUT` before
the closing cell; its definitions and grade cells come from ``solutions/ex6_hyperparams.py``
and :func:`grader.authoring.course_notebook.grade_source` like every other section's.
"""

from __future__ import annotations

S7 = r"""## 7. La tasa de aprendizaje y los gradientes que explotan

Hasta acá variamos la pérdida, la profundidad, la activación y la inicialización, pero siempre
con Adam y `lr=1e-3`. Falta el hiperparámetro que más se toca en la práctica: la **tasa de
aprendizaje**. Con descenso por gradiente, cada paso mueve los pesos
$w \leftarrow w - \eta\, \nabla L(w)$. El gradiente solo describe la pérdida *cerca* del punto
donde se lo calcula:

- con $\eta$ **demasiado grande** el paso cae lejos de donde la aproximación vale: cruza el
  valle y aterriza más arriba en la ladera de enfrente; el próximo gradiente es más grande, el
  próximo salto también, y la pérdida crece hasta `inf`/`nan` (o las ReLU quedan todas
  apagadas y la red se traba, prediciendo siempre lo mismo);
- con $\eta$ **demasiado chica** cada paso va en buena dirección pero avanza casi nada: con el
  mismo presupuesto de épocas, la red apenas se mueve de donde empezó;
- en el medio hay un rango de tasas que aprende rápido y estable.

Para comparar tasas hay que cambiar **solo** la tasa: el mismo modelo inicial (misma semilla),
un modelo *nuevo* para cada tasa (si no, la segunda corrida arranca donde terminó la primera),
un optimizador nuevo con esa tasa, y los mismos datos en el mismo orden.
"""

S7_TASK1 = r"""### Tarea `lr_sweep` (10 puntos): barrido de tasas

Completá `lr_sweep(make_model, lrs, train_loader, val_loader, epochs, seed, optimizer_cls,
device)`. Para cada tasa: fijá la semilla, construí un modelo nuevo con `make_model()` y un
optimizador `optimizer_cls(model.parameters(), lr=lr)`, entrená con entropía cruzada y guardá
la pérdida media y la accuracy de validación de cada época. Las pruebas espían qué modelos y
optimizadores construís, y miden ellas mismas, sobre los pesos entrenados, que la tasa chica
avance poco, la intermedia aprenda y la enorme diverja o se trabe.
"""

S7_SWEEP = r"""tr_7, val_7, test_7 = fast_mnist_loaders(64, seed=7, device=DISPOSITIVO,
                                         train_limit=IMAGENES_TRAIN)
# Sin mezclar: todas las tasas ven los mismos lotes en el mismo orden.
train_7 = FastLoader(tr_7.X, tr_7.y, 64)


def red_chica() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 64), nn.ReLU(), nn.Linear(64, 10))


tasas = [0.001, 0.01, 0.1, 1.0, 30.0]
corridas = lr_sweep(red_chica, tasas, train_7, val_7, epochs=EPOCAS_MNIST, seed=7,
                    device=DISPOSITIVO)
fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 3.8))
for lr, h in zip(tasas, corridas):
    epocas = range(1, len(h["train_loss"]) + 1)
    ax_loss.plot(epocas, h["train_loss"], marker="o", label=f"lr={lr:g}")
    ax_acc.plot(epocas, h["val_acc"], marker="o", label=f"lr={lr:g}")
ax_loss.set_yscale("log")  # la tasa enorme queda órdenes de magnitud arriba (o en nan)
ax_loss.set(xlabel="época", ylabel="pérdida de entrenamiento", title="SGD: una curva por tasa")
ax_acc.set(xlabel="época", ylabel="accuracy de validación", title="SGD: una curva por tasa")
for ax in (ax_loss, ax_acc):
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
plt.show()
for lr, h in zip(tasas, corridas):
    print(f"lr={lr:<6g} pérdida final {h['train_loss'][-1]:.3g}, "
          f"accuracy de validación {h['val_acc'][-1]:.3f}")
"""

S7_EXPLODING = r"""### Gradientes que explotan

En la sección 5 vimos la señal *hacia adelante*. Hacia atrás pasa lo mismo: por la regla de
la cadena, el gradiente respecto de la salida de la capa $\ell$ es el de la salida de la red
multiplicado por las jacobianas de todas las capas que siguen,
$$\frac{\partial L}{\partial h_\ell} = \frac{\partial L}{\partial h_L}\,
J_L J_{L-1} \cdots J_{\ell+1}, \qquad J_k = \operatorname{diag}(\sigma'(z_k))\, W_k .$$
Si cada $J_k$ estira los vectores en un factor parecido $c$, el producto crece como
$c^{L-\ell}$: las capas cerca de la entrada reciben gradientes órdenes de magnitud más grandes
que las del final. Con `tanh` y pesos demasiado grandes pasa justamente eso: hacia adelante la
señal no explota (la `tanh` satura en $\pm 1$), pero hacia atrás cada capa la amplifica. Un solo
paso de SGD con esos gradientes destroza las primeras capas.

**Recortar el gradiente** pone un tope al tamaño del paso. Hay dos formas:

- **por norma** (`torch.nn.utils.clip_grad_norm_(params, max_norm)`): se mide la norma L2 de
  *todos* los gradientes juntos y, si pasa de `max_norm`, se multiplican todos por
  `max_norm / norma`. La dirección del paso no cambia; solo se acorta;
- **por valor** (`clip_grad_value_`): cada componente se trunca a $[-c, c]$ por separado. Las
  componentes grandes se achatan y las chicas no, así que el paso apunta a otro lado.

En los dos casos el recorte va **entre `backward()` y `step()`**: después del paso ya no cambia
nada.
"""

S7_TASK2 = r"""### Tarea `exploding` (10 puntos): medir y recortar

Completá `grad_norms(model, X, y, criterion)`, que devuelve la norma del gradiente del peso de
cada `nn.Linear` (una por capa, la de entrada primero; borrá antes los gradientes viejos), y
`train_clipped(model, train_loader, lr, max_norm, ...)`, un bucle de entrenamiento que recorta
la norma total con `clip_grad_norm_` antes de cada `step()` y registra la pérdida y la norma
*antes* de recortar. Las pruebas comparan tus normas con un cálculo independiente y espían el
optimizador: en cada `step()` la norma total tiene que ser a lo sumo `max_norm`, con la misma
dirección que el gradiente original.
"""

S7_EXPLODE = r"""generador = torch.Generator().manual_seed(7)


def red_profunda(capas: int, ancho: int, ganancia: float, activacion: type) -> nn.Module:
    # 784 -> capas x ancho -> 10; pesos uniformes con desvío ganancia / sqrt(fan_in), bias 0.
    modulos, tamanios = [nn.Flatten()], [28 * 28] + [ancho] * capas + [10]
    for i, (a, b) in enumerate(zip(tamanios[:-1], tamanios[1:])):
        capa = nn.Linear(a, b)
        with torch.no_grad():
            cota = ganancia * math.sqrt(3.0 / a)
            capa.weight.uniform_(-cota, cota, generator=generador)
            capa.bias.zero_()
        modulos.append(capa)
        if i < capas:
            modulos.append(activacion())
    return nn.Sequential(*modulos).to(DISPOSITIVO)


X_7, y_7 = next(iter(train_7))
profunda = red_profunda(8, 64, 4.0, nn.Tanh)  # tanh con pesos demasiado grandes
sin_recorte = grad_norms(profunda, X_7, y_7, nn.CrossEntropyLoss())
torch.nn.utils.clip_grad_norm_(profunda.parameters(), max_norm=1.0)
con_recorte = [m.weight.grad.norm().item() for m in profunda.modules()
               if isinstance(m, nn.Linear)]

# Una red ReLU de 6 capas a 1,5 veces la init. de He, entrenada con SGD a lr=0.3.
registros, accuracy_7 = {}, {}
for nombre, max_norm in (("sin recorte", float("inf")), ("max_norm=1", 1.0)):
    generador.manual_seed(7)
    red = red_profunda(6, 64, 1.5 * math.sqrt(2.0), nn.ReLU)
    registros[nombre] = train_clipped(red, train_7, lr=0.3, max_norm=max_norm,
                                      device=DISPOSITIVO)
    accuracy_7[nombre] = evaluate_accuracy(red, test_7, device=DISPOSITIVO)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4))
graficar_por_capa(ax1, {"sin recorte": sin_recorte, "con recorte (max_norm=1)": con_recorte},
                  "Norma del gradiente de cada capa lineal", "norma del gradiente del peso")
for nombre, registro in registros.items():
    ax2.plot(range(1, len(registro["grad_norm"]) + 1), registro["grad_norm"], label=nombre)
ax2.set_yscale("log")
ax2.set(xlabel="paso", ylabel="norma total antes de recortar", title="SGD con lr=0.3")
ax2.grid(alpha=0.3, which="both")
ax2.legend()
plt.tight_layout()
plt.show()
for nombre, acc in accuracy_7.items():
    print(f"{nombre:<12} accuracy en test {acc:.3f}")
"""

S7_AFTER = r"""A la izquierda, las dos curvas son paralelas: recortar por norma multiplica todas las capas
por el mismo factor, así que la *forma* del perfil (el crecimiento hacia la entrada) no cambia;
solo baja el nivel. A la derecha, sin recorte la norma crece paso a paso hasta `inf` y los pesos
terminan en `nan`; con recorte la misma tasa entrena. Pensá: ¿el recorte arregla la causa (la
inicialización) o solo el síntoma? ¿Qué pasa con la tasa `30` del barrido si le agregás
recorte?
"""

#: the section's cells, in order (see ``grader.authoring.course_notebook.LAYOUT`` for the entry kinds)
LAYOUT: tuple[tuple[str, ...], ...] = (
    ("md", S7),
    ("md", S7_TASK1),
    ("solution", "ex6_hyperparams", "lr_sweep"),
    ("grade", "lr_sweep"),
    ("code", S7_SWEEP),
    ("md", S7_EXPLODING),
    ("md", S7_TASK2),
    ("solution", "ex6_hyperparams", "grad_norms"),
    ("solution", "ex6_hyperparams", "train_clipped"),
    ("grade", "exploding"),
    ("code", S7_EXPLODE),
    ("md", S7_AFTER),
)
