# %% [markdown] kit="about"
# The course notebook's prose and experiment cells, in jupytext's percent format (this cell
# is not part of the notebook). `python -m grader notebook` assembles
# course/source/practico2/practico2.ipynb from this file and solutions/:
#
# - kit="given" / kit="solution" source="module.name": that definition of solutions/, locked,
#   or with its solution regions for the student to write;
# - kit="grade" task="id": the task's grade cell (public checks, then a hidden variant);
# - kit="helper" name="...": the notebook's own given code, locked (in the budget helper,
#   __PRESUPUESTOS__ becomes the table of grader/budgets.py);
# - kit="imports": every import of solutions/ plus the notebook's own;
# - any other cell goes into the notebook as written here.

# %% [markdown]
# # Práctico 2: funciones de activación, funciones de pérdida, profundidad e inicialización
#
# En este cuaderno entrenamos redes sobre MNIST y sobre dos problemas de juguete (paridad de
# bits y entradas gaussianas al azar) para ver, con números y gráficos, por qué:
#
# 1. el error cuadrático contra vectores *one-hot* no es la mejor pérdida para clasificar;
# 2. *softmax* + entropía cruzada sí lo es;
# 3. una red profunda y angosta puede aprender cosas que a una llana y ancha le cuestan;
# 4. con muchas capas sigmoides el gradiente se desvanece, y con ReLU mucho menos;
# 5. la inicialización de los pesos decide si la señal sobrevive a 15 capas;
# 6. con ReLU e inicialización de He todo eso se junta en MNIST;
# 7. la tasa de aprendizaje decide si se avanza, se gatea o se diverge, y recortar el gradiente
#    frena a los que explotan.
#
# **Cómo trabajar.** Las celdas que dicen `# TU CÓDIGO AQUÍ` son tuyas: reemplazá el
# `raise NotImplementedError()` por tu implementación (las docstrings dicen qué formas y tipos
# devolver; no cambies los nombres). Después de cada tarea hay una celda **Comprobación**, de solo
# lectura: corre las mismas pruebas que `pytest exercises` sobre *tus* definiciones de este
# cuaderno y muestra un mensaje por cada prueba y tu puntaje. Al calificar se agregan pruebas con
# otros datos, así que una solución que solo sirve para los datos de ejemplo no alcanza.
# Ese puntaje es una guía inmediata: la nota oficial la calcula el calificador del curso, que corre
# tu código aparte de este kernel.
#
# Corré el cuaderno de arriba hacia abajo (*Kernel → Restart & Run All*): cada sección usa lo
# definido en las anteriores. Las celdas de solo lectura se restauran al calificar, así que
# cambiarlas no sirve de nada.

# %% kit="imports"

# %% [markdown]
# ### Presupuesto de entrenamiento
#
# Los experimentos no suman puntos (las comprobaciones tienen su propio entrenamiento, corto y
# fijo), pero son la parte donde se ve lo que enseña el práctico. Para que el cuaderno entero
# corra en un par de minutos en una CPU entrenan poco: pocas épocas y una parte de las 54.000
# imágenes de entrenamiento, así que los números van a ser más bajos que los del práctico
# original. Hay tres presupuestos, que se eligen con la variable de entorno
# `PRACTICO_PRESUPUESTO` antes de abrir Jupyter:
#
# - `rapido` (por defecto): 2 épocas sobre 8.000 imágenes; paridad con 2.000 ejemplos y 20 épocas;
# - `completo`: el del práctico original, 15 épocas sobre todas las imágenes, paridad con 6.000
#   ejemplos y 40 épocas (por ejemplo `PRACTICO_PRESUPUESTO=completo jupyter lab`; con GPU son
#   minutos, en CPU bastante más);
# - `minimo`: lo usa nbgrader al calificar, solo para que cada celda corra.
#
# Los experimentos usan el **cargador rápido del kit** (`fast_mnist_loaders`): las mismas
# imágenes, la misma partición entrenamiento/validación y lotes de 64, pero todo en memoria, sin
# pasar imagen por imagen por `ToTensor`. Devuelve lotes `(X, y)` igual que un `DataLoader`, así
# que tus funciones de entrenamiento no notan la diferencia.

# %% kit="helper" name="presupuesto"
# Presupuesto de los experimentos (las comprobaciones tienen el suyo, fijo).
PRESUPUESTOS = {
    #            épocas MNIST, imágenes de train, épocas paridad, ejemplos paridad
__PRESUPUESTOS__
}
PRESUPUESTO = os.environ.get("PRACTICO_PRESUPUESTO", "rapido")
if PRESUPUESTO not in PRESUPUESTOS:
    print(f"PRACTICO_PRESUPUESTO={PRESUPUESTO!r} no es uno de {list(PRESUPUESTOS)}: uso 'rapido'")
    PRESUPUESTO = "rapido"
EPOCAS_MNIST, IMAGENES_TRAIN, EPOCAS_PARIDAD, EJEMPLOS_PARIDAD = PRESUPUESTOS[PRESUPUESTO]
DISPOSITIVO = "cuda" if torch.cuda.is_available() else "cpu"

# Accuracy en test de cada modelo entrenado, para la comparación final.
resultados: dict[str, float] = {}
print(f"Presupuesto {PRESUPUESTO}: {EPOCAS_MNIST} época(s) sobre {IMAGENES_TRAIN or 54_000} "
      f"imágenes de MNIST, en {DISPOSITIVO}")

# %% kit="helper" name="graficos"
def graficar_curvas(historias: dict[str, dict[str, list[float]]], titulo: str) -> None:
    """Curvas de aprendizaje: pérdida (train y validación) y accuracy de validación por época.

    historias: {nombre: historia} con las listas que devuelven train_model0 / train_model.
    """
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 3.8))
    for nombre, h in historias.items():
        epocas = range(1, len(h["train_loss"]) + 1)
        (linea,) = ax_loss.plot(epocas, h["train_loss"], marker="o", label=f"{nombre} (train)")
        ax_loss.plot(epocas, h["val_loss"], "--", marker="x", color=linea.get_color(),
                     label=f"{nombre} (validación)")
        ax_acc.plot(epocas, h["val_acc"], marker="o", color=linea.get_color(), label=nombre)
    ax_loss.set(xlabel="época", ylabel="pérdida", title=f"{titulo}: pérdida")
    ax_acc.set(xlabel="época", ylabel="accuracy", title=f"{titulo}: accuracy de validación")
    for ax in (ax_loss, ax_acc):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # épocas enteras
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    plt.show()


def graficar_por_capa(ax, series: dict[str, list[float]], titulo: str, ylabel: str) -> None:
    """Una curva por serie: un valor por capa (la primera a la izquierda), eje y logarítmico."""
    for nombre, valores in series.items():
        ax.plot(range(1, len(valores) + 1), valores, marker="o", label=nombre)
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(xlabel="capa (1 = la primera)", ylabel=ylabel, title=titulo)
    ax.grid(alpha=0.3, which="both")
    ax.legend()


def visor_predicciones(modelo: nn.Module, nombre: str) -> None:
    """Un deslizador sobre el conjunto de test: la imagen, la predicción y el softmax de la salida."""
    def ver(indice: int) -> None:
        fig, probs = show_prediction(modelo, test_ds, indice, device=DISPOSITIVO)
        display(fig)
        print(f"{nombre}, softmax de la salida:")
        print("  ".join(f"{digito}: {p:.3f}" for digito, p in enumerate(probs)))

    widgets.interact(ver, indice=widgets.IntSlider(value=0, min=0, max=len(test_ds) - 1,
                                                   description="índice"))

# %% [markdown]
# ## 0. El dataset MNIST
#
# MNIST tiene 70.000 dígitos escritos a mano, de 28×28 píxeles en escala de grises: 60.000 para
# entrenar y 10.000 para test. `ToTensor` convierte cada imagen en un tensor `float` de forma
# `(1, 28, 28)` con valores en $[0, 1]$ (el canal va primero porque así lo esperan las capas de
# PyTorch).
#
# Del conjunto de entrenamiento apartamos el 10 % (6.000 imágenes) como **validación**: no se
# usa para calcular gradientes, solo para mirar, época a época, cómo le va a la red con datos que
# no vio. El test queda guardado para el final. La partición usa siempre la misma semilla, así que
# "validación" significa las mismas 6.000 imágenes en todo el kit.

# %% kit="given" source="ex0_data.load_mnist"

# %% kit="given" source="ex0_data.split_train_val"

# %% kit="given" source="ex0_data.make_loaders"

# %%
train_full, test_ds = load_mnist()
train_ds, val_ds = split_train_val(train_full)
train_loader, val_loader, test_loader = make_loaders(train_ds, val_ds, test_ds, batch_size=64)

print(f"Entrenamiento: {len(train_ds)}, validación: {len(val_ds)}, test: {len(test_ds)}")
X_lote, y_lote = next(iter(train_loader))
print("Un lote:", tuple(X_lote.shape), X_lote.dtype, "y", tuple(y_lote.shape), y_lote.dtype)

# %% [markdown]
# ### Visor del conjunto de entrenamiento
#
# Mové el deslizador para recorrer las imágenes de entrenamiento con su etiqueta.

# %% kit="given" source="ex0_data._digit_figure"

# %% kit="given" source="ex0_data.show_example"

# %%
def ver_entrenamiento(indice: int) -> None:
    display(show_example(train_full, indice))


widgets.interact(ver_entrenamiento, indice=widgets.IntSlider(
    value=0, min=0, max=len(train_full) - 1, description="índice"));

# %% [markdown]
# ### Tarea `test_viewer` (10 puntos): el visor del conjunto de test
#
# Completá `show_test_example(test_ds, index)`: lo mismo que `show_example`, pero para una imagen
# del conjunto de **test**, en escala de grises, con su etiqueta real en el título y sin ejes.
# Devolvé la figura (no llames a `plt.show()`): así la puede usar el visor y la pueden revisar las
# pruebas.

# %% kit="solution" source="ex0_data.show_test_example"

# %% kit="grade" task="test_viewer"

# %%
def ver_test(indice: int) -> None:
    display(show_test_example(test_ds, indice))


widgets.interact(ver_test, indice=widgets.IntSlider(
    value=0, min=0, max=len(test_ds) - 1, description="índice"));

# %% [markdown]
# ## 1. Primer intento: salidas sigmoides y error cuadrático contra *one-hot*
#
# Una red con una capa oculta sigmoide de 256 unidades y 10 salidas sigmoides, una por dígito.
# Para entrenarla con error cuadrático medio (MSE) hace falta un *objetivo* de 10 números por
# imagen: el vector **one-hot** de la etiqueta, con un 1 en la posición del dígito y 0 en el
# resto. El 3 es `[0, 0, 0, 1, 0, 0, 0, 0, 0, 0]`: la posición es el dígito mismo (no el
# dígito menos uno). La clase predicha es la salida más grande.
#
# Los pesos empiezan como en el práctico original, todos $\sim\mathcal{N}(0, 1)$ y los bias en
# cero (`init_normal`). Es una elección mala a propósito: con 784 entradas, la suma que llega a
# cada unidad oculta tiene un desvío estándar de alrededor de 10, así que casi todas las
# sigmoides arrancan saturadas, pegadas a 0 o a 1.
#
# **¿Por qué MSE contra one-hot no es una buena idea para clasificar?**
#
# - Trata cada una de las 10 salidas como una regresión aparte: nada obliga a que las salidas
#   sumen 1 ni a que se comporten como probabilidades, y el error de una salida no le dice nada a
#   las otras.
# - El gradiente del MSE respecto de la entrada de una sigmoide de salida es
#   $2(\sigma(z) - t)\,\sigma'(z)$, y $\sigma'(z) = \sigma(z)(1 - \sigma(z))$ es casi cero cuando la
#   sigmoide está saturada. Una salida que dice 0,001 donde debería decir 1 está muy equivocada y
#   sin embargo recibe un gradiente minúsculo: la red aprende más lento justo donde más se
#   equivoca.
# - El castigo está acotado: equivocarse con total seguridad cuesta, como mucho, 1 por salida. La
#   entropía cruzada (sección 2) castiga sin techo la confianza puesta en la clase incorrecta.
#
# Por eso este primer modelo aprende despacio y a los saltos.

# %% kit="given" source="ex1_onehot_mse.SimpleNet"

# %% kit="given" source="ex1_onehot_mse.init_normal"

# %% [markdown]
# ### Tarea `onehot_mse` (15 puntos): one-hot y el bucle de entrenamiento
#
# 1. `one_hot(y, num_classes=10)`: de etiquetas `long` `(B,)` a un tensor `float32`
#    `(B, num_classes)`, en el mismo dispositivo que `y`, sin modificar `y`.
# 2. `train_model0(...)`: en cada época, con el modelo en `train()`, por cada lote: gradientes en
#    cero, forward, `nn.MSELoss()` contra `one_hot(y)`, backward y paso del optimizador; después,
#    en `eval()` y dentro de `torch.no_grad()`, la pérdida y la accuracy de validación. Devolvé el
#    diccionario de la docstring, con un valor por época, e imprimí una línea por época para ver
#    el progreso.
#
# Las pruebas miden, entre otras cosas, que la pérdida reportada sea exactamente la del MSE
# promedio (con una red congelada se puede calcular a mano), que los gradientes no se acumulen
# entre lotes y que la validación no calcule gradientes.

# %% kit="solution" source="ex1_onehot_mse.one_hot"

# %% kit="solution" source="ex1_onehot_mse.train_model0"

# %% kit="grade" task="onehot_mse"

# %% kit="given" source="ex1_onehot_mse.evaluate_accuracy"

# %% kit="given" source="ex1_onehot_mse.show_prediction"

# %%
torch.manual_seed(123)
train_rapido, val_rapido, test_rapido = fast_mnist_loaders(
    64, seed=123, device=DISPOSITIVO, train_limit=IMAGENES_TRAIN)

mlp = SimpleNet(width=256)
mlp.apply(init_normal)
print(mlp)
optimizador = torch.optim.Adam(mlp.parameters(), lr=1e-3)
historia_mse = train_model0(mlp, train_rapido, val_rapido, optimizador, epochs=EPOCAS_MNIST,
                            device=DISPOSITIVO)

# %%
graficar_curvas({"SimpleNet + MSE": historia_mse}, "One-hot + MSE")
resultados["SimpleNet, MSE"] = evaluate_accuracy(mlp, test_rapido, device=DISPOSITIVO)
print(f"Accuracy en test: {resultados['SimpleNet, MSE']:.4f}")

# %% [markdown]
# ### Visor de predicciones
#
# Para cada imagen de test, la predicción de la red y el *softmax* de sus 10 salidas (lo
# explicamos en la sección siguiente: convierte 10 números cualesquiera en probabilidades que
# suman 1). Buscá imágenes donde la red duda o se equivoca.

# %%
visor_predicciones(mlp, "SimpleNet + MSE")

# %% [markdown]
# ## 2. Una pérdida mejor: *softmax* y entropía cruzada
#
# Para clasificar queremos que la red diga **qué tan probable** es cada clase. La función
# *softmax* convierte un vector de *logits* $z \in \mathbb{R}^{10}$ (números cualesquiera) en una
# distribución de probabilidad:
#
# $$p_k = \frac{e^{z_k}}{\sum_j e^{z_j}}, \qquad p_k > 0, \qquad \sum_k p_k = 1.$$
#
# Sumarle la misma constante a todos los logits no cambia $p$: solo importan las diferencias.
#
# La **entropía cruzada** de un ejemplo con etiqueta $y$ es $-\log p_y$: cero si la red le da
# probabilidad 1 a la clase correcta, y tanto más grande (sin techo) cuanto menos probabilidad le
# da. Su gradiente respecto de los logits es simplemente $p - q$, donde $q$ es el one-hot de $y$:
# no hay ningún factor $\sigma'$ que se achique, así que la red corrige con fuerza sus errores más
# groseros.
#
# **La mirada de la divergencia de Kullback–Leibler.** Si $q$ es la distribución "verdadera" de
# las etiquetas y $p$ la que propone la red,
#
# $$H(q, p) = -\sum_k q_k \log p_k = H(q) + D_{KL}(q \,\|\, p).$$
#
# $H(q)$ no depende de la red, así que minimizar la entropía cruzada es minimizar la divergencia
# KL entre la distribución verdadera y la de la red: la cantidad de información extra que hace
# falta para describir las etiquetas usando $p$ en lugar de $q$. Con etiquetas one-hot $H(q) = 0$
# y las dos coinciden. La KL es cero solo si $p = q$, pero no es una distancia: no es simétrica
# ($D_{KL}(q\|p) \neq D_{KL}(p\|q)$ en general).
#
# **En PyTorch**, `nn.CrossEntropyLoss` recibe los **logits** y las etiquetas enteras, y aplica
# `log_softmax` por dentro (de forma numéricamente estable). Por eso la red nueva, `SNet`, termina
# en una capa lineal: ponerle una softmax (o una sigmoide) a la salida sería aplicarla dos veces.

# %% [markdown]
# ### Tarea `ce_net` (15 puntos): logits y un bucle con cualquier pérdida
#
# 1. `SNet(width)`: como `SimpleNet`, 784 → `width` (sigmoide) → 10, pero la salida es lineal
#    (logits, sin activación).
# 2. `train_model(..., criterion, ...)`: el mismo bucle que `train_model0`, pero la pérdida es
#    `criterion(salida, y)` con las etiquetas tal cual, sin one-hot.

# %% kit="solution" source="ex2_cross_entropy.SNet"

# %% kit="solution" source="ex2_cross_entropy.train_model"

# %% kit="grade" task="ce_net"

# %%
criterio = nn.CrossEntropyLoss()
torch.manual_seed(123)
train_rapido, val_rapido, test_rapido = fast_mnist_loaders(
    64, seed=123, device=DISPOSITIVO, train_limit=IMAGENES_TRAIN)

mlp2 = SNet(width=256)
mlp2.apply(init_normal)
print(mlp2)
optimizador = torch.optim.Adam(mlp2.parameters(), lr=1e-3)
historia_ce = train_model(mlp2, train_rapido, val_rapido, optimizador, criterio,
                          epochs=EPOCAS_MNIST, device=DISPOSITIVO)

# %%
graficar_curvas({"SNet + entropía cruzada": historia_ce}, "Entropía cruzada")
resultados["SNet, entropía cruzada"] = evaluate_accuracy(mlp2, test_rapido, device=DISPOSITIVO)
print(f"Accuracy en test: {resultados['SNet, entropía cruzada']:.4f}")
if "historia_mse" in globals():
    print("Accuracy de validación por época, MSE:          ",
          " ".join(f"{a:.3f}" for a in historia_mse["val_acc"]))
    print("Accuracy de validación por época, entropía cruz.:",
          " ".join(f"{a:.3f}" for a in historia_ce["val_acc"]))

# %%
visor_predicciones(mlp2, "SNet + entropía cruzada")

# %% [markdown]
# ## 3. ¿Ancho o profundidad? El problema de la paridad
#
# El teorema de aproximación universal dice que una sola capa oculta, con suficientes unidades,
# alcanza para aproximar cualquier función razonable. No dice cuántas unidades hacen falta, ni si
# el descenso por gradiente las va a encontrar. ¿Conviene agregar unidades a una capa, o agregar
# capas?
#
# Lo probamos con la **paridad de $n$ bits**: la etiqueta es 1 si la cadena tiene una cantidad
# impar de unos y 0 si es par. Es un problema difícil para el aprendizaje: cambiar *cualquier*
# bit cambia la etiqueta, y ningún bit suelto (ni ningún grupo que no sea la cadena entera) dice
# nada sobre ella. Una red profunda puede armar la respuesta por partes, componiendo "o exclusivos"
# de a pares capa tras capa; una red de una sola capa tiene que resolverlo todo de una vez.
# Representarla no es imposible para la red llana (con $n$ unidades de umbral que cuentan
# unos alcanza); la pregunta es cuál de las dos **aprende** mejor con los mismos datos.
#
# Comparamos dos redes con la misma cantidad total de unidades ocultas (128), ambas con ReLU
# (la sección 4 explica por qué) y 2 logits de salida:
#
# - **llana y ancha**: `ShallowNet`, una capa oculta de 128 unidades;
# - **profunda y angosta**: `DeepNet`, 4 capas ocultas de 32 unidades.
#
# Las dos se entrenan con Adam ($\text{lr} = 10^{-3}$), lotes de 64 y entropía cruzada.

# %% kit="given" source="ex3_depth.generate_parity_torch"

# %% kit="given" source="ex3_depth.ShallowNet"

# %% [markdown]
# ### Tarea `deep_net` (10 puntos): la red profunda
#
# Completá `DeepNet(input_dim, hidden_units=32, depth=4)`: `depth` capas ocultas `nn.Linear` de
# `hidden_units` unidades con ReLU, y una capa de salida lineal con 2 logits. Podés usar
# `nn.Sequential`, `nn.ModuleList` o capas sueltas: las pruebas miran lo que la red calcula, no
# cómo se llaman sus atributos. También la entrenan unas épocas sobre paridad de 8 bits.

# %% kit="solution" source="ex3_depth.DeepNet"

# %% kit="grade" task="deep_net"

# %% kit="given" source="ex3_depth.train_net"

# %% kit="helper" name="cargadores_paridad"
def cargadores_paridad(n_bits: int, n_train: int, n_test: int, semilla: int):
    # Datos de paridad reproducibles y los cargadores rápidos del kit (lotes de 64).
    gen = torch.Generator().manual_seed(semilla)
    X_tr, y_tr = generate_parity_torch(n_bits, n_train, generator=gen)
    X_te, y_te = generate_parity_torch(n_bits, n_test, generator=gen)
    train = FastLoader(X_tr, y_tr, 64, shuffle=True,
                       generator=torch.Generator().manual_seed(semilla))
    return train, FastLoader(X_te, y_te, 64)

# %%
# Paridad de 8 bits: 2.000 ejemplos de entrenamiento (menos con el presupuesto mínimo) y 500 de test.
tr_paridad, te_paridad = cargadores_paridad(8, min(2_000, EJEMPLOS_PARIDAD), 500, semilla=0)
torch.manual_seed(0)
llana = ShallowNet(input_dim=8, hidden_units=128)
profunda = DeepNet(input_dim=8, hidden_units=32, depth=4)
print("Entrenando la red llana...")
perdidas_llana, acc_llana = train_net(llana, tr_paridad, te_paridad, epochs=EPOCAS_PARIDAD)
print("Entrenando la red profunda...")
perdidas_prof, acc_prof = train_net(profunda, tr_paridad, te_paridad, epochs=EPOCAS_PARIDAD)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8))
ax1.plot(perdidas_llana, label="llana (1×128)")
ax1.plot(perdidas_prof, label="profunda (4×32)")
ax1.set(xlabel="época", ylabel="pérdida de entrenamiento", title="Paridad de 8 bits: pérdida")
ax2.plot(acc_llana, label="llana (1×128)")
ax2.plot(acc_prof, label="profunda (4×32)")
ax2.set(xlabel="época", ylabel="accuracy en test", title="Paridad de 8 bits: accuracy")
for ax in (ax1, ax2):
    ax.grid(alpha=0.3)
    ax.legend()
plt.show()
print(f"Accuracy final en test: llana {acc_llana[-1]:.3f}, profunda {acc_prof[-1]:.3f}")

# %% [markdown]
# ### Escalado con la cantidad de bits
#
# La ventaja de la profundidad debería notarse más cuanto más difícil es el problema. Repetimos
# el experimento con 4, 8, 12 y 16 bits (con el presupuesto completo: 6.000 ejemplos de
# entrenamiento, 500 de test y 40 épocas) y graficamos la accuracy final en test de cada red.
# Con 16 bits hay 65.536 cadenas posibles y la red ve menos del 10 %: tiene que generalizar
# de verdad.

# %%
bits = [4, 8, 12, 16]
final_llana, final_prof = [], []
for n_bits in bits:
    tr, te = cargadores_paridad(n_bits, EJEMPLOS_PARIDAD, 500, semilla=n_bits)
    torch.manual_seed(n_bits)
    _, acc_l = train_net(ShallowNet(n_bits, 128), tr, te, epochs=EPOCAS_PARIDAD)
    _, acc_p = train_net(DeepNet(n_bits, 32, 4), tr, te, epochs=EPOCAS_PARIDAD)
    final_llana.append(acc_l[-1])
    final_prof.append(acc_p[-1])
    print(f"{n_bits:2d} bits: llana {acc_l[-1]:.3f}, profunda {acc_p[-1]:.3f}")

plt.figure(figsize=(5.5, 3.8))
plt.plot(bits, final_llana, marker="o", label="llana (1×128)")
plt.plot(bits, final_prof, marker="o", label="profunda (4×32)")
plt.axhline(0.5, color="gray", ls=":", label="azar")
plt.xlabel("cantidad de bits")
plt.ylabel("accuracy final en test")
plt.title("Paridad: llana contra profunda")
plt.grid(alpha=0.3)
plt.legend()
plt.show()

# %% [markdown]
# ## 4. Volvemos a MNIST: red profunda con sigmoides, y con ReLU
#
# Probemos con más capas en MNIST: `DeepMLP` tiene 4 capas ocultas sigmoides de 64 unidades y
# una salida lineal, con la inicialización por defecto de PyTorch.
#
# **El gradiente que se desvanece.** En la retropropagación, el gradiente que llega a la capa
# $\ell$ es el de la capa $\ell + 1$ multiplicado por la matriz de pesos transpuesta y por la
# derivada de la activación en cada unidad. La derivada de la sigmoide vale como mucho
# $\sigma'(0) = 1/4$ y es casi cero cuando la unidad está saturada. Con 4 capas, el gradiente que
# llega a la primera lleva un factor de a lo sumo $(1/4)^4 = 1/256$ que no viene de los pesos:
# las primeras capas, las que ven la imagen, son las que menos aprenden.
#
# **ReLU**, $\max(0, z)$, tiene derivada exactamente 1 donde está activa (y 0 donde no): el
# gradiente atraviesa las unidades activas sin achicarse. Su costo es que una unidad que queda
# siempre apagada deja de aprender ("ReLU muerta"), algo que una buena inicialización ayuda a
# evitar (sección 5).

# %% kit="given" source="ex4_activations.DeepMLP"

# %% [markdown]
# ### Tarea `relu_net` (10 puntos): la red profunda con ReLU
#
# Completá `DeepMLPR`: la misma arquitectura que `DeepMLP` (`depth` capas ocultas de `width`
# unidades, salida lineal, inicialización por defecto de PyTorch), con ReLU en cada capa oculta.
# Tiene que aceptar imágenes `(B, 1, 28, 28)` o vectores `(B, 784)`.

# %% kit="solution" source="ex4_activations.DeepMLPR"

# %% kit="grade" task="relu_net"

# %% [markdown]
# ### El gradiente, capa por capa
#
# Antes de entrenar: un lote de 64 imágenes, la entropía cruzada y un `backward()`, en una red
# sigmoide y en una ReLU recién creadas con la misma semilla. El gráfico muestra el desvío
# estándar del gradiente de los pesos de cada capa `nn.Linear`, de la primera (izquierda) a la de
# salida (derecha), en escala logarítmica.

# %%
def gradiente_por_capa(modelo: nn.Module, X: torch.Tensor, y: torch.Tensor) -> list[float]:
    # Desvío estándar del gradiente de los pesos de cada nn.Linear, en el orden de modules().
    modelo.zero_grad()
    nn.functional.cross_entropy(modelo(X), y).backward()
    return [m.weight.grad.std().item() for m in modelo.modules() if isinstance(m, nn.Linear)]


X_lote, y_lote = next(iter(test_loader))
torch.manual_seed(13)
grads_sigmoide = gradiente_por_capa(DeepMLP(28 * 28, 10, 64, 4), X_lote, y_lote)
torch.manual_seed(13)
grads_relu = gradiente_por_capa(DeepMLPR(28 * 28, 10, 64, 4), X_lote, y_lote)

fig, ax = plt.subplots(figsize=(6, 3.8))
graficar_por_capa(ax, {"sigmoide": grads_sigmoide, "ReLU": grads_relu},
                  "Gradiente por capa antes de entrenar", "std del gradiente")
plt.show()
print(f"Primera capa: sigmoide {grads_sigmoide[0]:.2e}, ReLU {grads_relu[0]:.2e} "
      f"({grads_relu[0] / grads_sigmoide[0]:.0f} veces más)")

# %%
historias_profundas = {}
for nombre, clase in [("DeepMLP (sigmoide)", DeepMLP), ("DeepMLPR (ReLU)", DeepMLPR)]:
    print(f"--- {nombre}")
    torch.manual_seed(13)
    train_rapido, val_rapido, test_rapido = fast_mnist_loaders(
        64, seed=13, device=DISPOSITIVO, train_limit=IMAGENES_TRAIN)
    modelo = clase(28 * 28, 10, 64, 4)
    optimizador = torch.optim.Adam(modelo.parameters(), lr=1e-3)
    historias_profundas[nombre] = train_model(modelo, train_rapido, val_rapido, optimizador,
                                              nn.CrossEntropyLoss(), epochs=EPOCAS_MNIST,
                                              device=DISPOSITIVO)
    resultados[nombre] = evaluate_accuracy(modelo, test_rapido, device=DISPOSITIVO)
    print(f"Accuracy en test: {resultados[nombre]:.4f}")

graficar_curvas(historias_profundas, "4 capas ocultas")

# %% [markdown]
# ## 5. Inicialización: Xavier, He y ortogonal
#
# En una red profunda, la escala de las activaciones (hacia adelante) y la de los gradientes
# (hacia atrás) se multiplica capa tras capa. Si cada capa la achica un poco, después de 15 capas
# no queda nada; si la agranda un poco, explota. La inicialización elige esa escala al comienzo.
#
# Para una capa $z = Wx$ con pesos independientes de media cero y entradas independientes,
# $\operatorname{Var}(z_i) = n_\text{in}\,\operatorname{Var}(w)\,\mathbb{E}[x^2]$, donde
# $n_\text{in}$ es la cantidad de entradas (*fan-in*).
#
# - **Xavier / Glorot** elige $\operatorname{Var}(w) = \frac{2}{n_\text{in} + n_\text{out}}$
#   (`xavier_uniform_`: uniforme en $\pm\sqrt{6/(n_\text{in} + n_\text{out})}$). Pensada para
#   activaciones lineales o `tanh`, que conservan la escala cerca de cero.
# - Pero **ReLU anula la mitad** de una señal simétrica: $\mathbb{E}[\operatorname{ReLU}(z)^2] =
#   \operatorname{Var}(z)/2$. Con Xavier y capas cuadradas, cada capa divide por dos el segundo
#   momento: de la primera a la capa 15, el desvío estándar de las activaciones se achica unas
#   $\sqrt{2^{14}} \approx 128$ veces.
# - **He / Kaiming** duplica la varianza para compensar: $\operatorname{Var}(w) =
#   2/n_\text{in}$ (`kaiming_uniform_` con `nonlinearity="relu"`: uniforme en
#   $\pm\sqrt{6/n_\text{in}}$).
# - **Ortogonal**: una matriz ortogonal conserva exactamente la norma de lo que multiplica; con
#   ganancia $\sqrt{2}$ también compensa la mitad que se come la ReLU.
#
# Para verlo usamos una red de juguete, `DeepMLP_i`: 15 capas ocultas ReLU de 128 unidades
# sobre entradas gaussianas de dimensión 100, que además de la salida devuelve el desvío estándar
# de las activaciones de cada capa oculta.

# %% kit="given" source="ex5_init.INIT_TYPES"

# %% [markdown]
# ### Tarea `init_schemes` (15 puntos): la red con inicialización elegible
#
# Completá `DeepMLP_i`: las capas, la inicialización de **todas** las capas lineales según
# `init_type` (bias en cero) y un `forward` que devuelve `(salida, stds)`, con el desvío estándar
# de cada activación oculta *después* de la ReLU. Las pruebas miden los pesos: cotas, desvío
# estándar y ortogonalidad, dentro de márgenes estadísticos.

# %% kit="solution" source="ex5_init.DeepMLP_i"

# %% kit="grade" task="init_schemes"

# %% [markdown]
# ### Tarea `probe_stats` (15 puntos): medir activaciones y gradientes
#
# Completá `probe_stats(net, batch_size, in_dim)`: una entrada $x \sim \mathcal{N}(0, 1)$ de forma
# `(batch_size, in_dim)`, la pérdida `mean(out ** 2)`, backward, y las dos listas de la docstring.
# Los gradientes se leen de los pesos de cada `nn.Linear`, de la capa de entrada a la de salida.

# %% kit="solution" source="ex5_init.probe_stats"

# %% kit="grade" task="probe_stats"

# %%
torch.manual_seed(0)
actividad, gradientes = {}, {}
for esquema in INIT_TYPES:
    red = DeepMLP_i(init_type=esquema, depth=15, width=128)
    actividad[esquema], gradientes[esquema] = probe_stats(red, batch_size=64, in_dim=100)
    print(f"{esquema:>10}: std de activación capa 1 = {actividad[esquema][0]:.3f}, "
          f"capa 15 = {actividad[esquema][-1]:.2e}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4))
graficar_por_capa(ax1, actividad, "Activaciones por capa oculta", "std de la activación")
graficar_por_capa(ax2, gradientes, "Gradiente de los pesos por capa", "std del gradiente")
plt.tight_layout()
plt.show()

# %% [markdown]
# Con Xavier las activaciones se achican capa tras capa, como predice la cuenta de arriba; con He
# y con la ortogonal escalada por $\sqrt{2}$ se mantienen aproximadamente constantes. Mirá también
# los gradientes: con Xavier, ¿qué capas reciben gradientes más chicos?

# %% [markdown]
# ## 6. De vuelta a MNIST, con inicialización de He
#
# Juntamos todo: la red de 4 capas ocultas ReLU de la sección 4, ahora con inicialización de He
# en todas sus capas lineales (`kaiming_uniform_` para ReLU) y bias en cero.

# %% [markdown]
# ### Tarea `he_init` (10 puntos): `DeepMLPI`
#
# Completá `DeepMLPI(in_dim, out_dim, width=64, depth=4)`: como `DeepMLPR`, con pesos
# `kaiming_uniform_(…, nonlinearity="relu")` y bias en cero en cada `nn.Linear`.

# %% kit="solution" source="ex5_init.DeepMLPI"

# %% kit="grade" task="he_init"

# %%
torch.manual_seed(234)
train_rapido, val_rapido, test_rapido = fast_mnist_loaders(
    64, seed=234, device=DISPOSITIVO, train_limit=IMAGENES_TRAIN)
mlp5 = DeepMLPI(28 * 28, 10, 64, 4)
optimizador = torch.optim.Adam(mlp5.parameters(), lr=1e-3)
historia_he = train_model(mlp5, train_rapido, val_rapido, optimizador, nn.CrossEntropyLoss(),
                          epochs=EPOCAS_MNIST, device=DISPOSITIVO)
resultados["DeepMLPI (ReLU + He)"] = evaluate_accuracy(mlp5, test_rapido, device=DISPOSITIVO)
print(f"Accuracy en test: {resultados['DeepMLPI (ReLU + He)']:.4f}")
graficar_curvas({"DeepMLPI (ReLU + He)": historia_he}, "ReLU + He")

# %%
nombres = list(resultados)
plt.figure(figsize=(8, 3.5))
plt.barh(nombres, [resultados[n] for n in nombres])
plt.xlim(min([0.5] + list(resultados.values())) - 0.05, 1.0)
plt.xlabel("accuracy en test")
plt.title(f"Comparación (presupuesto {PRESUPUESTO})")
plt.grid(alpha=0.3, axis="x")
plt.show()
for nombre in nombres:
    print(f"{nombre:<28} {resultados[nombre]:.4f}")

# %% [markdown]
# ## 7. La tasa de aprendizaje y los gradientes que explotan
#
# Hasta acá variamos la pérdida, la profundidad, la activación y la inicialización, pero siempre
# con Adam y `lr=1e-3`. Falta el hiperparámetro que más se toca en la práctica: la **tasa de
# aprendizaje**. Con descenso por gradiente, cada paso mueve los pesos
# $w \leftarrow w - \eta\, \nabla L(w)$. El gradiente solo describe la pérdida *cerca* del punto
# donde se lo calcula:
#
# - con $\eta$ **demasiado grande** el paso cae lejos de donde la aproximación vale: cruza el
#   valle y aterriza más arriba en la ladera de enfrente; el próximo gradiente es más grande, el
#   próximo salto también, y la pérdida crece hasta `inf`/`nan` (o las ReLU quedan todas
#   apagadas y la red se traba, prediciendo siempre lo mismo);
# - con $\eta$ **demasiado chica** cada paso va en buena dirección pero avanza casi nada: con el
#   mismo presupuesto de épocas, la red apenas se mueve de donde empezó;
# - en el medio hay un rango de tasas que aprende rápido y estable.
#
# Para comparar tasas hay que cambiar **solo** la tasa: el mismo modelo inicial (misma semilla),
# un modelo *nuevo* para cada tasa (si no, la segunda corrida arranca donde terminó la primera),
# un optimizador nuevo con esa tasa, y los mismos datos en el mismo orden.

# %% [markdown]
# ### Tarea `lr_sweep` (10 puntos): barrido de tasas
#
# Completá `lr_sweep(make_model, lrs, train_loader, val_loader, epochs, seed, optimizer_cls,
# device)`. Para cada tasa: fijá la semilla, construí un modelo nuevo con `make_model()` y un
# optimizador `optimizer_cls(model.parameters(), lr=lr)`, entrená con entropía cruzada y guardá
# la pérdida media y la accuracy de validación de cada época. Las pruebas espían qué modelos y
# optimizadores construís, y miden ellas mismas, sobre los pesos entrenados, que la tasa chica
# avance poco, la intermedia aprenda y la enorme diverja o se trabe.

# %% kit="solution" source="ex6_hyperparams.lr_sweep"

# %% kit="grade" task="lr_sweep"

# %%
tr_7, val_7, test_7 = fast_mnist_loaders(64, seed=7, device=DISPOSITIVO,
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

# %% [markdown]
# ### Gradientes que explotan
#
# En la sección 5 vimos la señal *hacia adelante*. Hacia atrás pasa lo mismo: por la regla de
# la cadena, el gradiente respecto de la salida de la capa $\ell$ es el de la salida de la red
# multiplicado por las jacobianas de todas las capas que siguen,
# $$\frac{\partial L}{\partial h_\ell} = \frac{\partial L}{\partial h_L}\,
# J_L J_{L-1} \cdots J_{\ell+1}, \qquad J_k = \operatorname{diag}(\sigma'(z_k))\, W_k .$$
# Si cada $J_k$ estira los vectores en un factor parecido $c$, el producto crece como
# $c^{L-\ell}$: las capas cerca de la entrada reciben gradientes órdenes de magnitud más grandes
# que las del final. Con `tanh` y pesos demasiado grandes pasa justamente eso: hacia adelante la
# señal no explota (la `tanh` satura en $\pm 1$), pero hacia atrás cada capa la amplifica. Un solo
# paso de SGD con esos gradientes destroza las primeras capas.
#
# **Recortar el gradiente** pone un tope al tamaño del paso. Hay dos formas:
#
# - **por norma** (`torch.nn.utils.clip_grad_norm_(params, max_norm)`): se mide la norma L2 de
#   *todos* los gradientes juntos y, si pasa de `max_norm`, se multiplican todos por
#   `max_norm / norma`. La dirección del paso no cambia; solo se acorta;
# - **por valor** (`clip_grad_value_`): cada componente se trunca a $[-c, c]$ por separado. Las
#   componentes grandes se achatan y las chicas no, así que el paso apunta a otro lado.
#
# En los dos casos el recorte va **entre `backward()` y `step()`**: después del paso ya no cambia
# nada.

# %% [markdown]
# ### Tarea `exploding` (10 puntos): medir y recortar
#
# Completá `grad_norms(model, X, y, criterion)`, que devuelve la norma del gradiente del peso de
# cada `nn.Linear` (una por capa, la de entrada primero; borrá antes los gradientes viejos), y
# `train_clipped(model, train_loader, lr, max_norm, ...)`, un bucle de entrenamiento que recorta
# la norma total con `clip_grad_norm_` antes de cada `step()` y registra la pérdida y la norma
# *antes* de recortar. Las pruebas comparan tus normas con un cálculo independiente y espían el
# optimizador: en cada `step()` la norma total tiene que ser a lo sumo `max_norm`, con la misma
# dirección que el gradiente original.

# %% kit="solution" source="ex6_hyperparams.grad_norms"

# %% kit="solution" source="ex6_hyperparams.train_clipped"

# %% kit="grade" task="exploding"

# %%
generador = torch.Generator().manual_seed(7)


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

# %% [markdown]
# A la izquierda, las dos curvas son paralelas: recortar por norma multiplica todas las capas
# por el mismo factor, así que la *forma* del perfil (el crecimiento hacia la entrada) no cambia;
# solo baja el nivel. A la derecha, sin recorte la norma crece paso a paso hasta `inf` y los pesos
# terminan en `nan`; con recorte la misma tasa entrena. Pensá: ¿el recorte arregla la causa (la
# inicialización) o solo el síntoma? ¿Qué pasa con la tasa `30` del barrido si le agregás
# recorte?

# %% [markdown]
# ## Para cerrar
#
# Con el presupuesto completo (15 épocas sobre las 54.000 imágenes), el práctico original obtuvo
# en test aproximadamente 0,951 con MSE, 0,951 con entropía cruzada, 0,965 con la red sigmoide
# de 4 capas, 0,973 con ReLU y 0,975 con ReLU e inicialización de He. Compará con tus números y
# pensá:
#
# - ¿En qué se nota la diferencia entre MSE y entropía cruzada: en la accuracy final o en cómo
#   llega a ella (la primera época, la forma de las curvas)?
# - En paridad, ¿cómo cambia la ventaja de la red profunda con la cantidad de bits?
# - Con 15 capas y Xavier, ¿qué le pasa al gradiente de las primeras capas? ¿Qué esperarías si la
#   red tuviera 50 capas?
# - Con el presupuesto completo, la accuracy final de la red sigmoide de 4 capas y la de la ReLU
#   difieren poco (0,965 contra 0,973); con el rápido la diferencia es grande. ¿Qué dice eso sobre
#   la *velocidad* con la que aprende cada una? ¿Qué esperarías con 20 capas?
