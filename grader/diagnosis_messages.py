"""The diagnoses' texts, in Spanish and English (merged into :data:`grader.messages.MESSAGES`).

Per mistake id: ``diag_title_<id>``, the mistake in a few words (the class report lists
them), and ``diag_<id>``, what the student reads instead of the failed check's message: it
names the mistake and the idea to revisit, never the code, and names only what the student
can see in their own code (their function, their net as it was called, a layer's position,
the dtype they returned), never a hidden input or an expected value. A few messages have a
variant ``diag_<id>_<variant>`` a detector picks (an activation it cannot name).

No imports: :mod:`grader.messages` merges this dict without loading any detector.
"""

from __future__ import annotations

DIAGNOSIS_MESSAGES: dict[str, dict[str, str]] = {
    "diag_also": {"es": "También puede ser:", "en": "It may also be:"},
    # ------------------------------------------------------------ test_viewer
    "diag_title_viewer_train_set": {"es": "el visor muestra una imagen de entrenamiento",
                                    "en": "the viewer shows a training image"},
    "diag_viewer_train_set": {
        "es": "show_test_example muestra una imagen del conjunto de *entrenamiento*: la "
              "imagen sale de otro dataset que el que recibe la función. Mostrá el elemento "
              "de test_ds, el argumento.",
        "en": "show_test_example shows an image of the *training* set: the image comes from "
              "another dataset than the one the function receives. Show the item of test_ds, "
              "the argument.",
    },
    "diag_title_viewer_wrong_index": {"es": "el visor muestra otro índice",
                                      "en": "the viewer shows another index"},
    "diag_viewer_wrong_index": {
        "es": "show_test_example muestra otra imagen de test, no la del índice que recibe. "
              "Revisá cómo usás `index`: sin sumarle ni restarle nada, y el que llega como "
              "argumento, no uno fijo.",
        "en": "show_test_example shows another test image, not the one at the index it "
              "receives. Check how you use `index`: nothing added or subtracted, and the one "
              "passed as the argument, not a fixed one.",
    },
    "diag_title_viewer_title_index": {"es": "el título muestra el índice, no la etiqueta",
                                      "en": "the title shows the index, not the label"},
    "diag_viewer_title_index": {
        "es": "El título de show_test_example muestra el índice de la imagen, pero no su "
              "etiqueta. El dataset da, para cada índice, la imagen *y* su etiqueta: el "
              "título tiene que mostrar la etiqueta (el dígito dibujado).",
        "en": "show_test_example's title shows the image's index, but not its label. The "
              "dataset gives, for each index, the image *and* its label: the title must show "
              "the label (the digit drawn).",
    },
    "diag_title_viewer_no_label": {"es": "el título no muestra la etiqueta",
                                   "en": "the title does not show the label"},
    "diag_viewer_no_label": {
        "es": "El título de show_test_example no muestra la etiqueta de la imagen: no hay "
              "ningún dígito. Cada elemento del dataset trae la imagen y su etiqueta: poné la "
              "etiqueta en el título.",
        "en": "show_test_example's title does not show the image's label: there is no digit "
              "in it. Each item of the dataset holds the image and its label: put the label "
              "in the title.",
    },
    # ------------------------------------------------------------ one_hot
    "diag_title_onehot_wrong_class": {"es": "one-hot con las clases corridas o mal indexadas",
                                      "en": "one-hot with classes shifted or mis-indexed"},
    "diag_onehot_wrong_class": {
        "es": "Los vectores one-hot ponen el 1 en la columna de *otra* clase (corrida o mal "
              "indexada), siempre la misma para cada dígito: la red aprende a responder esa "
              "otra clase. La posición del 1 es la etiqueta misma: el dígito d lleva su 1 en la "
              "columna d, empezando por el 0 en la columna 0.",
        "en": "The one-hot vectors put the 1 in the column of *another* class (shifted or "
              "mis-indexed), always the same one for each digit: the net learns to answer that "
              "other class. The 1's position is the label itself: digit d has its 1 in column "
              "d, starting with 0 in column 0.",
    },
    "diag_title_onehot_not_float32": {"es": "one-hot que no es float32",
                                      "en": "one-hot not in float32"},
    "diag_onehot_not_float32": {
        "es": "one_hot devuelve un tensor {dtype}; tiene que ser float32, el tipo de las "
              "salidas de la red con las que se lo compara. Enteros, booleanos o float64 no "
              "sirven: la pérdida mezclaría tipos (o fallaría). Fijá el tipo del tensor que "
              "devolvés.",
        "en": "one_hot returns a {dtype} tensor; it must be float32, the type of the net's "
              "outputs it is compared with. Integers, booleans or float64 will not do: the loss "
              "would mix types (or fail). Set the type of the tensor you return.",
    },
    "diag_title_onehot_wrong_num_classes": {"es": "one-hot con otro número de clases",
                                            "en": "one-hot with another number of classes"},
    "diag_onehot_wrong_num_classes": {
        "es": "one_hot no devuelve `num_classes` columnas: el ancho de cada vector sale de "
              "otro lado (un 10 fijo, la etiqueta más grande de ese lote...). El ancho es el "
              "argumento `num_classes`, sean cuales sean las etiquetas del lote.",
        "en": "one_hot does not return `num_classes` columns: each vector's width comes from "
              "elsewhere (a fixed 10, the batch's largest label...). The width is the "
              "`num_classes` argument, whatever labels the batch holds.",
    },
    # ------------------------------------------------------------ training loops
    "diag_title_softmax_before_ce": {"es": "softmax antes de la entropía cruzada",
                                     "en": "softmax before cross-entropy"},
    "diag_softmax_before_ce": {
        "es": "{fn} le pasa al criterio probabilidades (la salida ya pasó por softmax o "
              "sigmoide), pero la entropía cruzada espera logits: aplica log-softmax por "
              "dentro, y aplastar antes achica los gradientes. Pasale la salida cruda del "
              "modelo.",
        "en": "{fn} hands the criterion probabilities (the output already went through "
              "softmax or a sigmoid), but cross-entropy expects logits: it applies log-softmax "
              "itself, and squashing first shrinks the gradients. Hand it the model's raw "
              "output.",
    },
    "diag_title_criterion_ignored": {"es": "no se usa el criterio recibido",
                                     "en": "the criterion received is not used"},
    "diag_criterion_ignored": {
        "es": "{fn} calcula la pérdida con una entropía cruzada propia, no con el `criterion` "
              "que recibe como argumento (que puede traer pesos por clase o suavizado). Usá "
              "el argumento.",
        "en": "{fn} computes the loss with a cross-entropy of its own, not with the "
              "`criterion` it receives as an argument (which may carry class weights or "
              "smoothing). Use the argument.",
    },
    "diag_title_wrong_loss": {"es": "otra pérdida que la pedida",
                              "en": "another loss than the one asked"},
    "diag_wrong_loss": {
        "es": "{fn} usa otra función de pérdida que la pedida (las pérdidas que reporta son "
              "las de otra función sobre las mismas salidas). Releé la docstring: qué pérdida, "
              "entre qué y qué.",
        "en": "{fn} uses another loss function than the one asked for (the losses it reports "
              "are those of another function of the same outputs). Read the docstring again: "
              "which loss, between what and what.",
    },
    "diag_title_loss_not_averaged": {"es": "la pérdida se suma en vez de promediarse",
                                     "en": "the loss is summed, not averaged"},
    "diag_loss_not_averaged": {
        "es": "{fn} suma donde se pide un promedio: la pérdida de cada lote es el promedio "
              "sobre sus valores (la reducción por defecto), y la de cada época el promedio "
              "de las pérdidas de sus lotes (ni la suma, ni el último lote, ni un total que "
              "sigue de la época anterior).",
        "en": "{fn} sums where a mean is asked for: each batch's loss is the mean over its "
              "values (the default reduction), and each epoch's the mean of its batch losses "
              "(not their sum, not the last batch's, not a total carried over from the "
              "previous epoch).",
    },
    "diag_title_grad_not_cleared": {"es": "gradientes que no se borran",
                                    "en": "gradients not cleared"},
    "diag_grad_not_cleared": {
        "es": "En {fn} los gradientes se acumulan: el paso del optimizador usa la suma de los "
              "gradientes de varios lotes, porque backward() suma en .grad y nadie lo borra "
              "antes de cada lote. Cada paso tiene que usar sólo el gradiente de su lote.",
        "en": "In {fn} the gradients pile up: the optimizer step uses the sum of several "
              "batches' gradients, because backward() adds into .grad and nothing clears it "
              "before each batch. Each step must use its own batch's gradient only.",
    },
    "diag_title_acc_broadcast": {"es": "accuracy contada sobre una tabla (B, B)",
                                 "en": "accuracy counted over a (B, B) table"},
    "diag_acc_broadcast": {
        "es": "{fn} compara predicciones de forma (B,) con etiquetas de forma (B, 1): el "
              "broadcasting arma una tabla (B, B) y se cuentan aciertos de cada predicción "
              "contra cada etiqueta. Compará tensores de la misma forma (B,).",
        "en": "{fn} compares predictions shaped (B,) with labels shaped (B, 1): broadcasting "
              "builds a (B, B) table and counts each prediction against every label. Compare "
              "tensors of the same shape (B,).",
    },
    "diag_title_acc_not_fraction": {"es": "la accuracy no es una fracción",
                                    "en": "the accuracy is not a fraction"},
    "diag_acc_not_fraction": {
        "es": "La val_acc de {fn} no es la fracción de ejemplos acertados: es una cuenta, un "
              "porcentaje, o los aciertos divididos por otra cosa que la cantidad de ejemplos "
              "(los lotes, el tamaño del lote). Es aciertos / ejemplos de validación, entre 0 "
              "y 1.",
        "en": "{fn}'s val_acc is not the fraction of examples right: it is a count, a "
              "percentage, or the hits divided by something other than the number of examples "
              "(the batches, the batch size). It is hits / validation examples, between 0 and "
              "1.",
    },
    "diag_title_no_optimizer_step": {"es": "nunca se da un paso del optimizador",
                                     "en": "the optimizer never steps"},
    "diag_no_optimizer_step": {
        "es": "{fn} nunca llama a step() del optimizador que recibe (o entrena con uno "
              "propio): los pesos no cambian y la red no aprende. En cada lote, después de "
              "backward(), el optimizador recibido da un paso.",
        "en": "{fn} never calls step() on the optimizer it receives (or trains with one of "
              "its own): the weights never change and the net does not learn. On every batch, "
              "after backward(), the optimizer received takes a step.",
    },
    "diag_title_train_mode_not_restored": {"es": "no se vuelve a modo train()",
                                           "en": "train() mode not restored"},
    "diag_train_mode_not_restored": {
        "es": "{fn} pone el modelo en modo train() una sola vez: después de la primera "
              "validación (en eval()) las épocas siguientes entrenan en modo eval(). El modo "
              "se elige al empezar cada fase, en cada época.",
        "en": "{fn} puts the model in train() mode only once: after the first validation (in "
              "eval()) the next epochs train in eval() mode. The mode is set at the start of "
              "each phase, in every epoch.",
    },
    "diag_title_val_in_train_mode": {"es": "validación en modo train()",
                                     "en": "validation in train() mode"},
    "diag_val_in_train_mode": {
        "es": "{fn} valida con el modelo en modo train(). Para medir, el modelo va en modo "
              "eval() (con dropout o batch norm el resultado cambia), y vuelve a train() "
              "antes de seguir entrenando.",
        "en": "{fn} validates with the model in train() mode. To measure, the model goes in "
              "eval() mode (with dropout or batch norm the result changes), and back to "
              "train() before training again.",
    },
    "diag_title_val_with_grad": {"es": "validación con autograd",
                                 "en": "validation with autograd on"},
    "diag_val_with_grad": {
        "es": "{fn} valida con autograd activo: se guarda el grafo de cada lote de "
              "validación, que nunca se usa para entrenar (memoria y tiempo perdidos). La "
              "validación va sin gradientes.",
        "en": "{fn} validates with autograd on: the graph of every validation batch is kept "
              "although it never trains anything (memory and time wasted). Validation runs "
              "without gradients.",
    },
    # ------------------------------------------------------------ nets
    "diag_title_missing_activation": {"es": "falta una activación oculta",
                                      "en": "a hidden activation is missing"},
    "diag_missing_activation": {
        "es": "{what}: la salida de la capa oculta {layer} (contando desde 1) llega a la "
              "siguiente capa lineal sin activación. Dos capas lineales seguidas equivalen a "
              "una sola: cada capa oculta necesita su activación.",
        "en": "{what}: the output of hidden layer {layer} (counting from 1) reaches the next "
              "linear layer with no activation. Two linear layers in a row are just one: every hidden "
              "layer needs its activation.",
    },
    "diag_title_wrong_activation": {"es": "otra activación oculta que la pedida",
                                    "en": "another hidden activation than asked"},
    "diag_wrong_activation": {
        "es": "{what}: la capa oculta {layer} (contando desde 1) aplica {act}, pero la "
              "consigna pide {asked} en todas las capas ocultas. Revisá la activación de cada "
              "capa oculta, no sólo de la primera.",
        "en": "{what}: hidden layer {layer} (counting from 1) applies {act}, but the "
              "assignment asks for {asked} in every hidden layer. Check each hidden layer's "
              "activation, not only the first one's.",
    },
    "diag_wrong_activation_unnamed": {
        "es": "{what}: la capa oculta {layer} (contando desde 1) aplica otra función que "
              "{asked}, que es la que pide la consigna en todas las capas ocultas.",
        "en": "{what}: hidden layer {layer} (counting from 1) applies another function than "
              "{asked}, which the assignment asks for in every hidden layer.",
    },
    "diag_title_activation_on_output": {"es": "activación sobre la salida",
                                        "en": "activation on the output"},
    "diag_activation_on_output": {
        "es": "{what}: el forward aplica {act} a la salida de la última capa; tiene que "
              "devolver logits (la salida lineal). La pérdida ya hace lo que necesita con "
              "ellos: aplastarlos antes achica o anula gradientes.",
        "en": "{what}: forward applies {act} to the last layer's output; it must return "
              "logits (the linear output). The loss already does what it needs with them: "
              "squashing them first shrinks or kills gradients.",
    },
    "diag_activation_on_output_unnamed": {
        "es": "{what}: el forward transforma la salida de la última capa; tiene que devolver "
              "logits (la salida lineal, sin nada encima).",
        "en": "{what}: forward transforms the last layer's output; it must return logits (the "
              "linear output, nothing on top).",
    },
    "diag_title_layers_not_registered": {"es": "capas en una lista de Python",
                                         "en": "layers in a plain Python list"},
    "diag_layers_not_registered": {
        "es": "{what}: el forward usa capas que el módulo no tiene registradas: están en una "
              "lista (o un dict) común de Python. Para PyTorch no existen: no están en "
              "parameters(), el optimizador no las entrena, to(device) no las mueve. Guardalas "
              "en nn.ModuleList o nn.Sequential.",
        "en": "{what}: forward uses layers the module has not registered: they sit in a plain "
              "Python list (or dict). To PyTorch they do not exist: they are not in "
              "parameters(), the optimizer does not train them, to(device) does not move them. "
              "Keep them in an nn.ModuleList or an nn.Sequential.",
    },
    "diag_title_depth_off_by_one": {"es": "una capa oculta de más o de menos",
                                    "en": "one hidden layer too many or too few"},
    "diag_depth_off_by_one": {
        "es": "{what}: la red tiene una capa oculta de más o de menos. `depth` cuenta las "
              "capas ocultas (cada una, lineal + activación), y la capa de salida va aparte, "
              "encima. Revisá el rango del bucle que las construye.",
        "en": "{what}: the net has one hidden layer too many or too few. `depth` counts the "
              "hidden layers (each a linear layer + activation), and the output layer comes on "
              "top of them. Check the range of the loop that builds them.",
    },
    "diag_title_width_ignored": {"es": "no se usa el ancho pedido",
                                 "en": "the width asked is not used"},
    "diag_width_ignored": {
        "es": "{what}: las capas ocultas no tienen el ancho que se pasa como argumento (tienen "
              "otro: un número fijo u otro argumento). El ancho de cada capa oculta sale del "
              "argumento.",
        "en": "{what}: the hidden layers do not have the width passed as the argument (they "
              "have another: a fixed number or another argument). Each hidden layer's width "
              "comes from the argument.",
    },
    # ------------------------------------------------------------ init
    "diag_title_stds_before_activation": {"es": "desvíos medidos antes de la activación",
                                          "en": "stds measured before the activation"},
    "diag_stds_before_activation": {
        "es": "{what}: los desvíos que devuelve forward son los de la salida lineal de cada "
              "capa oculta, antes de la activación. Se piden los de lo que sale de la "
              "activación: lo que recibe la capa siguiente.",
        "en": "{what}: the stds forward returns are those of each hidden layer's linear "
              "output, before the activation. Those of the activation's output are asked for: "
              "what the next layer receives.",
    },
    "diag_title_init_missing_layer": {"es": "una capa queda con la init. por defecto",
                                      "en": "a layer keeps the default init"},
    "diag_init_missing_layer": {
        "es": "{what}: la nn.Linear número {layer} (contando desde 1) conserva la "
              "inicialización por defecto de nn.Linear: el esquema no se le aplicó. Revisá "
              "sobre qué capas recorre la inicialización: todas, la de salida incluida.",
        "en": "{what}: nn.Linear number {layer} (counting from 1) keeps nn.Linear's default "
              "initialization: the scheme was not applied to it. Check which layers the "
              "initialization walks over: all of them, the output layer included.",
    },
    "diag_title_xavier_instead_of_he": {"es": "Xavier donde se pide He",
                                        "en": "Xavier where He is asked"},
    "diag_xavier_instead_of_he": {
        "es": "{what}: los pesos de la nn.Linear número {layer} (contando desde 1) siguen "
              "Xavier (escala con entradas y salidas), no He. He compensa que ReLU anula la "
              "mitad de la señal: su escala depende sólo de las entradas, con ganancia "
              "sqrt(2).",
        "en": "{what}: the weights of nn.Linear number {layer} (counting from 1) follow Xavier "
              "(scaled by inputs and outputs), not He. He makes up for ReLU zeroing half the "
              "signal: its scale depends on the inputs only, with gain sqrt(2).",
    },
    "diag_title_he_instead_of_xavier": {"es": "He donde se pide Xavier",
                                        "en": "He where Xavier is asked"},
    "diag_he_instead_of_xavier": {
        "es": "{what}: los pesos de la nn.Linear número {layer} (contando desde 1) siguen He, "
              "no Xavier. Xavier escala con las entradas y las salidas de la capa juntas, sin "
              "la ganancia de ReLU.",
        "en": "{what}: the weights of nn.Linear number {layer} (counting from 1) follow He, not "
              "Xavier. Xavier scales with the layer's inputs and outputs together, without "
              "ReLU's gain.",
    },
    "diag_title_fan_out_mode": {"es": "He con fan_out en vez de fan_in",
                                "en": "He with fan_out instead of fan_in"},
    "diag_fan_out_mode": {
        "es": "{what}: los pesos de la nn.Linear número {layer} (contando desde 1) están "
              "escalados por la cantidad de *salidas* de la capa (modo fan_out). He, como se "
              "pide, conserva la varianza hacia adelante: escala por las *entradas* (fan_in).",
        "en": "{what}: the weights of nn.Linear number {layer} (counting from 1) are scaled by "
              "the layer's number of *outputs* (fan_out mode). He, as asked, keeps the variance "
              "going forward: it scales by the *inputs* (fan_in).",
    },
    "diag_title_normal_not_uniform": {"es": "distribución normal en vez de uniforme",
                                      "en": "normal distribution instead of uniform"},
    "diag_normal_not_uniform": {
        "es": "{what}: los pesos de la nn.Linear número {layer} (contando desde 1) tienen la "
              "escala del esquema pedido, pero vienen de una normal (o una normal recortada), "
              "no de la uniforme que se pide. Usá la variante uniforme del esquema.",
        "en": "{what}: the weights of nn.Linear number {layer} (counting from 1) have the asked "
              "scheme's scale, but come from a normal (or a clipped normal), not from the "
              "uniform asked for. Use the scheme's uniform variant.",
    },
    "diag_title_orthogonal_no_gain": {"es": "ortogonal sin la ganancia de ReLU",
                                      "en": "orthogonal without ReLU's gain"},
    "diag_orthogonal_no_gain": {
        "es": "{what}: los pesos de la nn.Linear número {layer} (contando desde 1) son "
              "ortogonales, pero con ganancia {gain}. Con ReLU la ganancia es sqrt(2): "
              "compensa la mitad de la señal que ReLU anula.",
        "en": "{what}: the weights of nn.Linear number {layer} (counting from 1) are orthogonal, "
              "but with gain {gain}. With ReLU the gain is sqrt(2): it makes up for the half of "
              "the signal ReLU zeroes.",
    },
    "diag_title_bias_not_zero": {"es": "biases que no quedan en cero",
                                 "en": "biases not set to zero"},
    "diag_bias_not_zero": {
        "es": "{what}: la nn.Linear número {layer} (contando desde 1) tiene los pesos "
              "inicializados, pero su bias quedó como lo crea nn.Linear (no es cero). El "
              "esquema también pone los biases en cero.",
        "en": "{what}: nn.Linear number {layer} (counting from 1) has its weights initialized, "
              "but its bias was left as nn.Linear makes it (not zero). The scheme also sets "
              "the biases to zero.",
    },
    # ------------------------------------------------------------ probe_stats
    "diag_title_probe_no_backward": {"es": "nunca se calculan gradientes",
                                     "en": "no gradient is ever computed"},
    "diag_probe_no_backward": {
        "es": "{fn}: las activaciones están bien, pero grad_stds está vacía o en cero: nunca "
              "se calcularon gradientes (sin backward, o con el forward sin autograd). Hace "
              "falta una pérdida de la salida y su backward antes de medir los gradientes.",
        "en": "{fn}: the activations are right, but grad_stds is empty or all zero: no "
              "gradient was ever computed (no backward, or the forward ran without autograd). "
              "It takes a loss of the output and its backward before measuring gradients.",
    },
    "diag_title_weight_std_not_grad": {"es": "se miden los pesos, no sus gradientes",
                                       "en": "the weights are measured, not their gradients"},
    "diag_weight_std_not_grad": {
        "es": "{fn}: grad_stds tiene el desvío de los *pesos* de cada capa, no el de sus "
              "*gradientes*. Los gradientes quedan en el .grad de cada peso después del "
              "backward.",
        "en": "{fn}: grad_stds holds the std of each layer's *weights*, not of their "
              "*gradients*. The gradients are in each weight's .grad after backward.",
    },
    "diag_title_grad_norm_not_std": {"es": "otra estadística del gradiente",
                                     "en": "another statistic of the gradient"},
    "diag_grad_norm_not_std": {
        "es": "{fn}: grad_stds no es el desvío estándar de cada gradiente sino otra medida "
              "({statistic}). Se pide el desvío (cuánto se dispersan sus valores), no su "
              "tamaño.",
        "en": "{fn}: grad_stds is not each gradient's standard deviation but another measure "
              "of it ({statistic}). The std (how spread its values are) is asked for, not its "
              "size.",
    },
    "diag_title_loss_sum_not_mean": {"es": "pérdida sumada en vez de promediada",
                                     "en": "loss summed instead of averaged"},
    "diag_loss_sum_not_mean": {
        "es": "{fn}: los gradientes son los de una pérdida *sumada* (sobre todas las salidas, "
              "o por ejemplo), no del *promedio* de out**2: todos quedan multiplicados por la "
              "cantidad de valores sumados.",
        "en": "{fn}: the gradients are those of a *summed* loss (over every output, or per "
              "example), not of the *mean* of out**2: all of them come out multiplied by the "
              "number of values summed.",
    },
    "diag_title_grads_include_biases": {"es": "grad_stds incluye los biases",
                                        "en": "grad_stds includes the biases"},
    "diag_grads_include_biases": {
        "es": "{fn}: grad_stds tiene un valor por parámetro, los biases incluidos. Se pide uno "
              "por capa nn.Linear: el del gradiente de su peso.",
        "en": "{fn}: grad_stds has one value per parameter, the biases included. One per "
              "nn.Linear layer is asked for: its weight's gradient's.",
    },
    "diag_title_grads_missing_layers": {"es": "faltan capas en grad_stds",
                                        "en": "layers missing from grad_stds"},
    "diag_grads_missing_layers": {
        "es": "{fn}: grad_stds deja afuera alguna capa nn.Linear (la de salida, la primera...): "
              "los valores que tiene son los de las demás. Va uno por cada capa lineal, todas.",
        "en": "{fn}: grad_stds leaves out some nn.Linear layer (the output one, the first "
              "one...): the values it has are the other layers'. There is one per linear "
              "layer, all of them.",
    },
    "diag_title_reversed_layers": {"es": "capas en orden inverso",
                                   "en": "layers in reverse order"},
    "diag_reversed_layers": {
        "es": "{fn}: los valores van de la capa de salida a la de entrada. Van en el orden en "
              "que el forward usa las capas: primero la de entrada.",
        "en": "{fn}: the values go from the output layer to the input layer. They go in the "
              "order forward uses the layers: the input layer first.",
    },
    "diag_title_input_not_gaussian": {"es": "la entrada no es N(0, 1)",
                                      "en": "the input is not N(0, 1)"},
    "diag_input_not_gaussian": {
        "es": "probe_stats: la entrada que recibe la red no viene de una normal estándar "
              "(media 0, desvío 1): parece uniforme, constante o escalada. Los desvíos "
              "medidos dependen de esa entrada.",
        "en": "probe_stats: the input the net receives is not drawn from a standard normal "
              "(mean 0, std 1): it looks uniform, constant or scaled. The stds measured depend "
              "on that input.",
    },
    # ------------------------------------------------------------ lr_sweep
    "diag_title_model_reused": {"es": "el mismo modelo para todas las tasas",
                                "en": "one model for every rate"},
    "diag_model_reused": {
        "es": "{fn} entrena el mismo modelo con varias tasas: cada corrida arranca donde "
              "terminó la anterior, y la comparación no es justa. Cada tasa necesita un "
              "modelo nuevo, con su propio optimizador.",
        "en": "{fn} trains one model at several rates: each run starts where the previous one "
              "ended, and the comparison is not fair. Each rate needs a fresh model, with its "
              "own optimizer.",
    },
    "diag_title_optimizer_not_asked": {"es": "otro optimizador que el pedido",
                                       "en": "another optimizer than asked"},
    "diag_optimizer_not_asked": {
        "es": "{fn} no entrena con el optimizador pedido: uno propio en vez de optimizer_cls, "
              "u optimizer_cls con opciones de más (momentum, weight decay). Se pide SGD "
              "plano, construido sólo con la tasa que recibe.",
        "en": "{fn} does not train with the optimizer asked for: one of its own instead of "
              "optimizer_cls, or optimizer_cls with extra options (momentum, weight decay). "
              "Plain SGD is asked for, built with the rate it is given and nothing else.",
    },
    "diag_title_lr_not_used": {"es": "no se usa la tasa de cada corrida",
                               "en": "each run's rate is not used"},
    "diag_lr_not_used": {
        "es": "{fn}: algún optimizador se construyó con otra tasa que la de su corrida (una "
              "fija, la primera de la lista, o la que trae por defecto). Cada corrida usa su "
              "propia tasa de la lista.",
        "en": "{fn}: some optimizer was built with another rate than its run's (a fixed one, "
              "the list's first, or its default). Each run uses its own rate from the list.",
    },
    "diag_title_seed_per_run": {"es": "la semilla no se fija en cada corrida",
                                "en": "the seed is not set for each run"},
    "diag_seed_per_run": {
        "es": "{fn}: las corridas arrancan de pesos iniciales distintos, así que no sólo "
              "cambia la tasa. La semilla se fija de nuevo justo antes de crear cada modelo.",
        "en": "{fn}: the runs start from different initial weights, so the rate is not the "
              "only thing that changes. The seed is set again right before each model is "
              "built.",
    },
    "diag_title_seed_arg_ignored": {"es": "no se usa la semilla recibida",
                                    "en": "the seed received is not used"},
    "diag_seed_arg_ignored": {
        "es": "{fn}: las corridas arrancan de los mismos pesos, pero no de los que da la "
              "semilla `seed` que recibe (se fija otra, o se crea el modelo antes de fijarla). "
              "Usá el argumento, antes de crear cada modelo.",
        "en": "{fn}: the runs start from the same weights, but not from those the `seed` it "
              "receives gives (another one is set, or the model is built before it is set). "
              "Use the argument, before building each model.",
    },
    "diag_title_val_on_train_set": {"es": "validación sobre el conjunto de entrenamiento",
                                    "en": "validation on the training set"},
    "diag_val_on_train_set": {
        "es": "{fn} mide val_acc sobre los lotes de entrenamiento: ningún lote de validación "
              "pasó por el modelo. La accuracy de validación se mide sobre val_loader.",
        "en": "{fn} measures val_acc on the training batches: no validation batch went "
              "through the model. Validation accuracy is measured on val_loader.",
    },
    # ------------------------------------------------------------ exploding
    "diag_title_clip_after_step": {"es": "recorte después del paso (o sin recorte)",
                                   "en": "clipping after the step (or none)"},
    "diag_clip_after_step": {
        "es": "train_clipped: optimizer.step() encuentra los gradientes sin recortar. El "
              "recorte tiene que pasar entre backward() y step(): después del paso ya no "
              "cambia nada.",
        "en": "train_clipped: optimizer.step() finds the gradients unclipped. Clipping must "
              "happen between backward() and step(): after the step it changes nothing.",
    },
    "diag_title_clip_by_value": {"es": "recorte por valor en vez de por norma",
                                 "en": "clipping by value instead of by norm"},
    "diag_clip_by_value": {
        "es": "train_clipped recorta cada valor del gradiente por separado (por valor). Se "
              "pide recortar la *norma total*: escalar todos los gradientes juntos por un "
              "mismo factor, sin cambiar su dirección.",
        "en": "train_clipped clips each gradient value on its own (by value). Clipping the "
              "*total norm* is asked for: scaling all the gradients together by one factor, "
              "without changing their direction.",
    },
    "diag_title_clip_per_layer": {"es": "recorte capa por capa",
                                  "en": "clipping layer by layer"},
    "diag_clip_per_layer": {
        "es": "train_clipped recorta la norma de cada parámetro (o capa) por separado. Se pide "
              "recortar la norma *total* de todos los gradientes juntos: un solo factor para "
              "todos.",
        "en": "train_clipped clips each parameter's (or layer's) norm on its own. Clipping the "
              "*total* norm of all the gradients together is asked for: one factor for all.",
    },
    "diag_title_stale_grads": {"es": "gradientes viejos que siguen ahí",
                               "en": "stale gradients left in"},
    "diag_stale_grads": {
        "es": "{fn}: a los gradientes de este lote se suman los que ya estaban en .grad "
              "(backward() suma, no reemplaza). Borrá los gradientes antes de cada backward().",
        "en": "{fn}: this batch's gradients get the ones already in .grad added to them "
              "(backward() adds, it does not replace). Clear the gradients before each "
              "backward().",
    },
    "diag_title_norm_of_wrong_tensor": {"es": "la norma de otro tensor",
                                        "en": "the norm of another tensor"},
    "diag_norm_of_wrong_tensor": {
        "es": "grad_norms devuelve normas de otros tensores que el gradiente del peso de cada "
              "capa (los pesos mismos, el bias junto con el peso, los biases, o todo el modelo "
              "de una vez). Va una norma por nn.Linear: la de weight.grad.",
        "en": "grad_norms returns norms of other tensors than each layer's weight gradient "
              "(the weights themselves, the bias with the weight, the biases, or the whole "
              "model at once). It is one norm per nn.Linear: that of weight.grad.",
    },
    "diag_title_wrong_norm_statistic": {"es": "otra medida que la norma L2",
                                        "en": "another measure than the L2 norm"},
    "diag_wrong_norm_statistic": {
        "es": "grad_norms devuelve otra medida de cada gradiente que su norma L2 (un desvío, "
              "una varianza, la norma al cuadrado, la suma o el máximo de los valores "
              "absolutos). Se pide la norma L2: la raíz de la suma de los cuadrados.",
        "en": "grad_norms returns another measure of each gradient than its L2 norm (a std, a "
              "variance, the squared norm, the sum or the largest absolute value). The L2 norm "
              "is asked for: the square root of the sum of squares.",
    },
}
