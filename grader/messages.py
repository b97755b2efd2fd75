"""Every message a student or instructor can see, in Spanish and English.

Each says what was expected, what was found, and a hint that points at the idea
without writing the code. ``tests/test_messages.py`` keeps both languages in step
(same placeholders) and checks every key the grader uses exists here.
"""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    # ------------------------------------------------------------- statuses
    "status_not_implemented": {
        "es": "[{task}] Todavía no implementado: tu código lanza NotImplementedError{where}. "
              "Completá el TODO [{task}] de {module}.py y volvé a correr los tests.",
        "en": "[{task}] Not implemented yet: your code raises NotImplementedError{where}. "
              "Fill in the TODO [{task}] in {module}.py and run the tests again.",
    },
    "status_missing_file": {
        "es": "[{task}] No encontré {module}.py en la entrega: esta tarea vale 0 hasta que "
              "esté ese archivo (con ese nombre exacto).",
        "en": "[{task}] {module}.py is not in the submission: this task scores 0 until that "
              "file is there (with that exact name).",
    },
    "status_missing_name": {
        "es": "[{task}] {module}.py no define {names}. Usá exactamente los nombres de la "
              "consigna: los tests los buscan por nombre.",
        "en": "[{task}] {module}.py does not define {names}. Keep exactly the names from the "
              "assignment: the checks look them up by name.",
    },
    "status_import_error": {
        "es": "[{task}] {module}.py no se puede importar: {exc_type}: {exc_msg}{where}. "
              "Mientras no se pueda importar, todas las tareas de ese archivo valen 0; "
              "probá `python {module}.py` para ver el error completo.",
        "en": "[{task}] {module}.py cannot be imported: {exc_type}: {exc_msg}{where}. "
              "While it does not import, every task in that file scores 0; run "
              "`python {module}.py` to see the full error.",
    },
    "status_unreadable_file": {
        "es": "[{task}] No se pudo usar {module}.py: {reason}. Entregá un archivo común, "
              "legible, de menos de 1 MiB.",
        "en": "[{task}] {module}.py could not be used: {reason}. Hand in a plain, readable "
              "file under 1 MiB.",
    },
    "status_error": {
        "es": "[{task}] Tu código lanzó {exc_type}: {exc_msg}{where}. Revisá las formas y "
              "tipos que indica la docstring.",
        "en": "[{task}] Your code raised {exc_type}: {exc_msg}{where}. Check the shapes and "
              "types the docstring asks for.",
    },
    "status_timeout": {
        "es": "[{task}] Sin resultado: se cortó a los {seconds} s (límite de tiempo). ¿Hay un "
              "bucle que no termina o un entrenamiento mucho más largo que el pedido?",
        "en": "[{task}] No result: stopped after {seconds} s (time limit). Is there a loop that "
              "never ends, or training far longer than asked?",
    },
    "status_crashed": {
        "es": "[{task}] Sin resultado: el proceso que corría tu código terminó antes de "
              "responder ({reason}).",
        "en": "[{task}] No result: the process running your code ended before answering "
              "({reason}).",
    },
    # ---- why a child gave no result (rendered into status_crashed / status_unreadable_file)
    "reason_frame_too_big": {
        "es": "violación del protocolo: un mensaje de {size} bytes (el máximo es {limit})",
        "en": "protocol violation: a message of {size} bytes (at most {limit})",
    },
    "reason_frame_truncated": {
        "es": "violación del protocolo: un mensaje cortado a la mitad",
        "en": "protocol violation: a message cut short",
    },
    "reason_frame_undecodable": {
        "es": "violación del protocolo: un mensaje que no está en el formato del calificador",
        "en": "protocol violation: a message not in the grader's format",
    },
    "reason_event_not_dict": {
        "es": "violación del protocolo: un {type} en lugar de un evento",
        "en": "protocol violation: a {type} instead of an event",
    },
    "reason_event_unnamed": {
        "es": "violación del protocolo: un evento sin nombre",
        "en": "protocol violation: an event without a name",
    },
    "reason_event_unknown": {
        "es": "violación del protocolo: un evento desconocido",
        "en": "protocol violation: an unknown event",
    },
    "reason_event_malformed": {
        "es": "violación del protocolo: un evento {ev!r} inesperado o mal formado",
        "en": "protocol violation: an unexpected or malformed {ev!r} event",
    },
    "reason_killed": {"es": "lo terminó el calificador", "en": "killed by the grader"},
    "reason_signal": {"es": "señal {signal}", "en": "signal {signal}"},
    "reason_SIGXFSZ": {
        "es": "{signal}, límite de tamaño de archivo: ¿demasiada salida?",
        "en": "{signal}, file-size limit: too much output?",
    },
    "reason_SIGXCPU": {"es": "{signal}, límite de tiempo de CPU",
                       "en": "{signal}, CPU-time limit"},
    "reason_SIGKILL": {"es": "{signal}, matado", "en": "{signal}, killed"},
    "reason_SIGSEGV": {"es": "{signal}, violación de segmento (acceso inválido a memoria)",
                       "en": "{signal}, segmentation fault"},
    "reason_exit_code": {"es": "terminó antes de tiempo con código {code}",
                         "en": "exited early with code {code}"},
    "reason_unreadable": {"es": "no se puede leer ({detail})", "en": "cannot be read ({detail})"},
    "reason_not_regular": {"es": "no es un archivo común (es un enlace o una carpeta)",
                           "en": "not a regular file (a link or a folder)"},
    "reason_too_large": {"es": "pesa más de {kib} KiB", "en": "larger than {kib} KiB"},
    "reason_all_too_large": {"es": "los archivos juntos pesan más de {kib} KiB",
                             "en": "the files together are larger than {kib} KiB"},
    "malformed_output": {
        "es": "Los datos que devolvió tu código no tienen la forma esperada ({detail}).",
        "en": "The data your code returned is not shaped as expected ({detail}).",
    },
    # ------------------------------------------------------------- generic types
    "expected_tensor": {
        "es": "{what}: esperaba un torch.Tensor común, pero recibí {found}.",
        "en": "{what}: expected a plain torch.Tensor, got {found}.",
    },
    "wrong_shape": {
        "es": "{what}: esperaba forma {expected} y obtuve {found}.",
        "en": "{what}: expected shape {expected}, got {found}.",
    },
    "wrong_dtype": {
        "es": "{what}: esperaba dtype {expected} y obtuve {found}. Fijá el tipo del tensor que "
              "devolvés.",
        "en": "{what}: expected dtype {expected}, got {found}. Set the type of the tensor you "
              "return.",
    },
    "wrong_device": {
        "es": "{what}: el resultado quedó en {found}, pero la entrada estaba en {expected}. "
              "Creá los tensores en el mismo dispositivo que la entrada.",
        "en": "{what}: the result is on {found} but the input was on {expected}. Create "
              "tensors on the input's device.",
    },
    "not_finite": {
        "es": "{what}: hay valores NaN o infinitos.",
        "en": "{what}: contains NaN or infinite values.",
    },
    "expected_list": {
        "es": "{what}: esperaba una lista de floats y recibí {found}.",
        "en": "{what}: expected a list of floats, got {found}.",
    },
    "list_of_tensors": {
        "es": "{what}: la lista tiene tensores, no floats. Pista: `.item()` convierte un "
              "tensor de un elemento en un float (y no guarda el grafo de cómputo).",
        "en": "{what}: the list holds tensors, not floats. Hint: `.item()` turns a "
              "one-element tensor into a float (and does not keep the autograd graph).",
    },
    "expected_float_items": {
        "es": "{what}: cada elemento debería ser un float y encontré {found}.",
        "en": "{what}: each item should be a float, found {found}.",
    },
    "wrong_length": {
        "es": "{what}: esperaba {expected} valores y hay {found}.",
        "en": "{what}: expected {expected} values, found {found}.",
    },
    # ------------------------------------------------------------- networks
    "not_a_module": {
        "es": "{what}: esperaba un nn.Module y obtuve {found}.",
        "en": "{what}: expected an nn.Module, got {found}.",
    },
    "no_linear_layers": {
        "es": "{what}: no encontré capas nn.Linear usadas en el forward. Las capas tienen que "
              "ser nn.Linear registradas en el módulo (atributos, nn.Sequential o nn.ModuleList).",
        "en": "{what}: found no nn.Linear layers used by forward. Layers must be nn.Linear "
              "modules registered on the model (attributes, nn.Sequential or nn.ModuleList).",
    },
    "layers_do_not_chain": {
        "es": "{what}: las capas lineales no encajan una con otra; (entradas, salidas) en el "
              "orden en que se usan: {shapes}.",
        "en": "{what}: the linear layers do not chain; (in, out) in the order used: {shapes}.",
    },
    "layer_count": {
        "es": "{what}: esperaba {expected} capas nn.Linear y encontré {found}. Contá las capas "
              "ocultas que pide la docstring más la de salida; sólo cuentan las registradas en "
              "el módulo (atributos, nn.Sequential, nn.ModuleList), no las de una lista común.",
        "en": "{what}: expected {expected} nn.Linear layers, found {found}. Count the hidden "
              "layers the docstring asks for plus the output layer; only layers registered on "
              "the module count (attributes, nn.Sequential, nn.ModuleList), not those in a "
              "plain list.",
    },
    "layer_shapes": {
        "es": "{what}: los tamaños (entradas, salidas) de las capas no son los pedidos; "
              "encontré {found}. Revisá el ancho de cada capa y las dimensiones de entrada y salida.",
        "en": "{what}: the layer sizes (in, out) are not the ones asked for; found {found}. "
              "Check each layer's width and the input and output sizes.",
    },
    "param_count": {
        "es": "{what}: esperaba {expected} parámetros entrenables y hay {found}. ¿Sobra o falta "
              "alguna capa, o un bias?",
        "en": "{what}: expected {expected} trainable parameters, found {found}. Is a layer or a "
              "bias missing or extra?",
    },
    "call_order": {
        "es": "{what}: el forward usa capas de tamaños {found} en ese orden; no es la "
              "arquitectura pedida.",
        "en": "{what}: forward uses layers of sizes {found} in that order; that is not the "
              "requested architecture.",
    },
    "forward_mismatch": {
        "es": "{what}: la salida no coincide con la de una red de esas capas con {hidden} en "
              "cada capa oculta y salida lineal. Revisá qué activación aplicás y dónde.",
        "en": "{what}: the output does not match a net of those layers with {hidden} in every "
              "hidden layer and a linear output. Check which activation you apply, and where.",
    },
    "wrong_hidden_activation": {
        "es": "{what}: las capas ocultas se comportan como {found}, pero se pedía {expected}.",
        "en": "{what}: the hidden layers behave like {found}, but {expected} was asked for.",
    },
    "wrong_hidden_activation_layer": {
        "es": "{what}: la capa oculta {layer} (contando desde 1) se comporta como {found}; "
              "todas las capas ocultas tienen que usar {expected}.",
        "en": "{what}: hidden layer {layer} (counting from 1) behaves like {found}; every "
              "hidden layer must use {expected}.",
    },
    "wrong_output_logits": {
        "es": "{what}: a la salida le aplicás {found}; tiene que ser lineal (logits). "
              "nn.CrossEntropyLoss ya aplica log-softmax por dentro: hacerlo antes lo duplica.",
        "en": "{what}: you apply {found} to the output; it must be linear (logits). "
              "nn.CrossEntropyLoss already applies log-softmax: doing it before applies it twice.",
    },
    "wrong_output_map": {
        "es": "{what}: la salida se comporta como {found}, pero se pedía {expected}.",
        "en": "{what}: the output behaves like {found}, but {expected} was asked for.",
    },
    "flat_input": {
        "es": "{what}: con la entrada aplanada (B, 784) da otro resultado que con imágenes "
              "(B, 1, 28, 28). Aplaná cada imagen dentro del forward.",
        "en": "{what}: flat input (B, 784) gives a different result than images "
              "(B, 1, 28, 28). Flatten each image inside forward.",
    },
    "no_first_grad": {
        "es": "{what}: después de backward la primera capa no tiene gradiente. ¿Se desconecta "
              "el grafo en el forward (detach, .data, numpy)?",
        "en": "{what}: after backward the first layer has no gradient. Does forward break the "
              "graph (detach, .data, numpy)?",
    },
    "grad_mismatch_net": {
        "es": "{what}: el gradiente de la primera capa no coincide con el de una red ReLU con "
              "esos pesos.",
        "en": "{what}: the first layer's gradient does not match a ReLU net with those weights.",
    },
    "grads_vanish": {
        "es": "El gradiente de la primera capa es apenas {ratio} veces el de la misma red con "
              "sigmoides (se esperaba al menos {minimum}x): todavía se desvanece.",
        "en": "The first layer's gradient is only {ratio} times that of the same net with "
              "sigmoids (at least {minimum}x expected): it still vanishes.",
    },
    # ------------------------------------------------------------- viewer
    "viewer_not_figure": {
        "es": "show_test_example tiene que devolver una matplotlib Figure y devolvió {found}. "
              "Pista: en vez de plt.show(), devolvé la figura que creaste.",
        "en": "show_test_example must return a matplotlib Figure and returned {found}. "
              "Hint: instead of plt.show(), return the figure you created.",
    },
    "viewer_no_image": {
        "es": "La figura del índice {index} no tiene ninguna imagen (imshow).",
        "en": "The figure for index {index} holds no image (imshow).",
    },
    "viewer_train_image": {
        "es": "Para el índice {index} se muestra la imagen de *entrenamiento* con ese índice, "
              "no la de test. Usá el dataset que recibe la función.",
        "en": "For index {index} the *training* image with that index is shown, not the test "
              "one. Use the dataset the function receives.",
    },
    "viewer_wrong_index": {
        "es": "Para el índice {index} se muestra la imagen de test {other}: revisá el índice.",
        "en": "For index {index} test image {other} is shown: check the index.",
    },
    "viewer_image_mismatch": {
        "es": "La imagen mostrada para el índice {index} no es la imagen de test de ese índice "
              "(se compara píxel a píxel, a menos de una escala).",
        "en": "The image shown for index {index} is not the test image at that index "
              "(compared pixel by pixel, up to scaling).",
    },
    "viewer_title": {
        "es": "Índice {index}: el título debería mostrar la etiqueta real (un solo dígito, sin "
              "otros dígitos sueltos); encontré: «{title}».",
        "en": "Index {index}: the title should show the true label (one digit, no other "
              "stand-alone digits); found: \"{title}\".",
    },
    "viewer_axes_on": {
        "es": "Índice {index}: los ejes están visibles; ocultalos.",
        "en": "Index {index}: the axes are visible; turn them off.",
    },
    "viewer_not_gray": {
        "es": "Índice {index}: la imagen no está en escala de grises (revisá el mapa de colores).",
        "en": "Index {index}: the image is not in grayscale (check the colormap).",
    },
    # ------------------------------------------------------------- one-hot
    "onehot_modifies_input": {
        "es": "one_hot modificó el tensor de etiquetas que recibió; no tiene que cambiarlo.",
        "en": "one_hot modified the label tensor it received; it must leave it unchanged.",
    },
    "onehot_shifted": {
        "es": "one_hot pone el 1 en la posición etiqueta-1. La posición es el dígito mismo: "
              "el 3 lleva el 1 en el índice 3 (y el 0 en el índice 0).",
        "en": "one_hot puts the 1 at position label-1. The position is the digit itself: "
              "3 has its 1 at index 3 (and 0 at index 0).",
    },
    "onehot_row_sums": {
        "es": "{what}: cada fila tiene que tener exactamente un 1 y el resto ceros.",
        "en": "{what}: each row must hold exactly one 1 and zeros elsewhere.",
    },
    "onehot_wrong_position": {
        "es": "{what}: cada fila tiene un solo 1, pero no en la columna de su etiqueta.",
        "en": "{what}: each row has a single 1, but not in its label's column.",
    },
    # ------------------------------------------------------------- training loops
    "history_not_dict": {
        "es": "La función de entrenamiento tiene que devolver un dict con las listas "
              "train_loss, val_loss y val_acc; devolvió {found}.",
        "en": "The training function must return a dict with the lists train_loss, val_loss "
              "and val_acc; it returned {found}.",
    },
    "history_missing_keys": {
        "es": "Al historial le faltan las claves {missing} (tiene: {found}).",
        "en": "The history lacks the keys {missing} (it has: {found}).",
    },
    "history_value": {
        "es": "history[\"{key}\"] en la época {epoch}: esperaba {expected} y obtuve {found}. "
              "Revisá qué pérdida usás, contra qué objetivo, y cómo promediás sobre los lotes.",
        "en": "history[\"{key}\"] at epoch {epoch}: expected {expected}, got {found}. Check "
              "which loss you use, against which target, and how you average over batches.",
    },
    "loss_shifted": {
        "es": "history[\"{key}\"] corresponde a objetivos one-hot corridos un lugar (etiqueta-1). "
              "El 1 va en la posición del dígito.",
        "en": "history[\"{key}\"] matches one-hot targets shifted by one (label-1). The 1 goes "
              "at the digit's position.",
    },
    "loss_sum": {
        "es": "history[\"{key}\"] es la suma de los errores al cuadrado, no el promedio. "
              "La pérdida pedida es nn.MSELoss() con su reducción por defecto.",
        "en": "history[\"{key}\"] is the sum of squared errors, not the mean. The loss asked "
              "for is nn.MSELoss() with its default reduction.",
    },
    "loss_per_sample": {
        "es": "history[\"{key}\"] suma sobre las 10 clases y promedia sobre el lote; "
              "nn.MSELoss() promedia sobre los B x 10 valores.",
        "en": "history[\"{key}\"] sums over the 10 classes and averages over the batch; "
              "nn.MSELoss() averages over all B x 10 values.",
    },
    "loss_ce": {
        "es": "history[\"{key}\"] es entropía cruzada; en este ejercicio la pérdida es MSE "
              "contra el one-hot.",
        "en": "history[\"{key}\"] is cross-entropy; in this exercise the loss is MSE against "
              "the one-hot vector.",
    },
    "loss_default_ce": {
        "es": "history[\"{key}\"] usa una entropía cruzada propia, no el `criterion` que recibe "
              "la función. Usá el argumento: puede traer pesos o suavizado.",
        "en": "history[\"{key}\"] uses a cross-entropy of its own, not the `criterion` the "
              "function receives. Use the argument: it may carry weights or smoothing.",
    },
    "loss_softmax_first": {
        "es": "history[\"{key}\"] corresponde a aplicar softmax antes del criterio. "
              "CrossEntropyLoss espera logits.",
        "en": "history[\"{key}\"] matches applying softmax before the criterion. "
              "CrossEntropyLoss expects logits.",
    },
    "step_count": {
        "es": "optimizer.step() se llamó {found} veces; con {batches} lotes y {epochs} épocas "
              "esperaba {expected} (uno por lote).",
        "en": "optimizer.step() was called {found} times; with {batches} batches and {epochs} "
              "epochs I expected {expected} (one per batch).",
    },
    "no_grad_at_step": {
        "es": "En el paso {step} del optimizador los parámetros no tenían gradiente: "
              "¿se llama a step() antes de backward()?",
        "en": "At optimizer step {step} the parameters had no gradient: is step() called "
              "before backward()?",
    },
    "grads_accumulate": {
        "es": "Los gradientes se acumulan de un lote al siguiente: en cada paso del optimizador "
              "tiene que estar sólo el gradiente del lote actual.",
        "en": "Gradients accumulate from one batch to the next: at each optimizer step only "
              "the current batch's gradient must be there.",
    },
    "grad_mismatch": {
        "es": "El gradiente presente en algún paso del optimizador no es el de la pérdida de "
              "ese lote.",
        "en": "The gradient present at some optimizer step is not that of that batch's loss.",
    },
    "train_not_train_mode": {
        "es": "Algún lote de entrenamiento pasó por el modelo en modo eval(). Poné el modelo en "
              "modo train() al empezar cada época de entrenamiento.",
        "en": "A training batch went through the model in eval() mode. Put the model in "
              "train() mode at the start of every training epoch.",
    },
    "train_without_grad": {
        "es": "Algún lote de entrenamiento pasó con los gradientes desactivados.",
        "en": "A training batch went through with gradients disabled.",
    },
    "val_in_train_mode": {
        "es": "La validación corre con el modelo en modo train(); usá eval() para validar.",
        "en": "Validation runs with the model in train() mode; use eval() to validate.",
    },
    "val_with_grad": {
        "es": "La validación calcula gradientes; no hacen falta (y gastan memoria y tiempo).",
        "en": "Validation computes gradients; they are not needed (and cost memory and time).",
    },
    "train_batches_missing": {
        "es": "El modelo vio {found} lotes de entrenamiento; esperaba al menos {expected}.",
        "en": "The model saw {found} training batches; expected at least {expected}.",
    },
    "val_batches_missing": {
        "es": "El modelo vio {found} lotes de validación; esperaba al menos {expected} "
              "(todo val_loader en cada época).",
        "en": "The model saw {found} validation batches; expected at least {expected} "
              "(all of val_loader every epoch).",
    },
    "val_acc_inconsistent": {
        "es": "La val_acc reportada en la última época ({reported}) no es la accuracy del modelo "
              "entrenado sobre el conjunto de validación ({measured}).",
        "en": "The val_acc reported for the last epoch ({reported}) is not the trained model's "
              "accuracy on the validation set ({measured}).",
    },
    "accuracy_low": {
        "es": "{what}: tras {epochs} época(s) con {n} imágenes, la accuracy en test es {acc}; "
              "se esperaba al menos {threshold}. Algo de lo que usa esta corrida le impide "
              "aprender (la red, los objetivos, la pérdida, el bucle): los otros chequeos de "
              "la tarea dicen qué.",
        "en": "{what}: after {epochs} epoch(s) on {n} images, test accuracy is {acc}; at "
              "least {threshold} was expected. Something this run uses keeps it from learning "
              "(the net, the targets, the loss, the loop): the task's other checks say what.",
    },
    # ------------------------------------------------------------- init and probes
    "bias_not_zero": {
        "es": "{what}: el bias de la capa {layer} no es cero.",
        "en": "{what}: the bias of layer {layer} is not zero.",
    },
    "wrong_init": {
        "es": "{what}: los pesos de la capa {layer} no siguen {expected}; parecen {found}.",
        "en": "{what}: layer {layer}'s weights do not follow {expected}; they look like {found}.",
    },
    "forward_not_pair": {
        "es": "{what}: forward tiene que devolver una tupla (salida, lista de desvíos).",
        "en": "{what}: forward must return a tuple (output, list of stds).",
    },
    "stds_before_relu": {
        "es": "{what}: los desvíos se miden antes de la ReLU; se piden después.",
        "en": "{what}: the stds are measured before the ReLU; they are asked for after it.",
    },
    "stds_mismatch": {
        "es": "{what}: los desvíos reportados no son los de la salida de cada capa oculta.",
        "en": "{what}: the reported stds are not those of each hidden layer's output.",
    },
    "probe_not_pair": {
        "es": "{what}: tiene que devolver (activation_stds, grad_stds).",
        "en": "{what}: must return (activation_stds, grad_stds).",
    },
    "probe_net_not_called": {
        "es": "{what}: nunca se llamó a la red.",
        "en": "{what}: the net was never called.",
    },
    "probe_input_shape": {
        "es": "{what}: la entrada a la red tenía forma {found}; se pedía {expected}.",
        "en": "{what}: the net's input had shape {found}; {expected} was asked for.",
    },
    "probe_input_dist": {
        "es": "{what}: la entrada no parece N(0, 1) (media {mean}, desvío {std}).",
        "en": "{what}: the input does not look N(0, 1) (mean {mean}, std {std}).",
    },
    "probe_lengths": {
        "es": "{what}: las listas no tienen los largos pedidos (depth y depth + 1).",
        "en": "{what}: the lists do not have the requested lengths (depth and depth + 1).",
    },
    "probe_acts_mismatch": {
        "es": "{what}: activation_stds no es lo que devuelve la red para esa entrada.",
        "en": "{what}: activation_stds is not what the net returns for that input.",
    },
    "probe_weights_not_grads": {
        "es": "{what}: grad_stds mide los pesos, no sus gradientes.",
        "en": "{what}: grad_stds measures the weights, not their gradients.",
    },
    "probe_grads_reversed": {
        "es": "{what}: grad_stds está en orden inverso; va de la capa de entrada a la de salida.",
        "en": "{what}: grad_stds is reversed; it goes from the input layer to the output layer.",
    },
    "probe_grads_scaled": {
        "es": "{what}: grad_stds es {factor} veces lo esperado: revisá que la pérdida sea el "
              "promedio de out**2.",
        "en": "{what}: grad_stds is {factor} times the expected values: check the loss is the "
              "mean of out**2.",
    },
    "probe_grads_mismatch": {
        "es": "{what}: grad_stds no coincide con los desvíos de los gradientes de los pesos de "
              "cada capa lineal para esa entrada.",
        "en": "{what}: grad_stds does not match the stds of each linear layer's weight "
              "gradients for that input.",
    },
    "trend_xavier": {
        "es": "Con Xavier y ReLU las activaciones deberían achicarse capa a capa; la última "
              "quedó en {ratio} veces la primera.",
        "en": "With Xavier and ReLU activations should shrink layer after layer; the last is "
              "{ratio} times the first.",
    },
    "trend_stable": {
        "es": "Con {scheme} las activaciones deberían mantener su escala; la última quedó en "
              "{ratio} veces la primera.",
        "en": "With {scheme} activations should keep their scale; the last is {ratio} times "
              "the first.",
    },
    # ------------------------------------------------------------- notebook grade cells
    "nb_task_header": {
        "es": "[{task}] {title}: {score}/{max} puntos",
        "en": "[{task}] {title}: {score}/{max} points",
    },
    "nb_not_implemented": {
        "es": "[{task}] Todavía no implementado: tu código ({names}) lanza NotImplementedError. "
              "Reemplazá el `raise NotImplementedError()` de las celdas `# TU CÓDIGO AQUÍ` de "
              "esta tarea, corré esas celdas y después volvé a correr esta.",
        "en": "[{task}] Not implemented yet: your code ({names}) raises NotImplementedError. "
              "Replace the `raise NotImplementedError()` in this task's `# TU CÓDIGO AQUÍ` "
              "cells, run those cells, then run this one again.",
    },
    "nb_missing_name": {
        "es": "[{task}] El cuaderno todavía no define {names}. Corré, de arriba hacia abajo, las "
              "celdas donde se definen (sin cambiarles el nombre) y después esta.",
        "en": "[{task}] The notebook does not define {names} yet. Run the cells that define "
              "them, top to bottom (keeping their names), then this one.",
    },
    "nb_hidden_header": {
        "es": "[{task}] Con otros datos (variante {variant}): {score}/{max} puntos en total",
        "en": "[{task}] With other inputs (variant {variant}): {score}/{max} points in all",
    },
    # ------------------------------------------------------------- hidden variants, nbgrader
    "secret_missing": {
        "es": "Las variantes ocultas necesitan el secreto del curso y {var} no está definida. "
              "Generá uno una sola vez (python -c \"import secrets; "
              "print(secrets.token_hex(16))\"), guardalo fuera del material que reciben los "
              "alumnos y exportalo antes de calificar: export {var}=... (al menos {min} "
              "caracteres).",
        "en": "Hidden variants need the course secret and {var} is not set. Make one once "
              "(python -c \"import secrets; print(secrets.token_hex(16))\"), keep it out of "
              "everything students receive, and export it before grading: export {var}=... "
              "(at least {min} characters).",
    },
    "secret_short": {
        "es": "{var} tiene {length} caracteres: con menos de {min} se puede adivinar. Usá uno "
              "generado con python -c \"import secrets; print(secrets.token_hex(16))\".",
        "en": "{var} has {length} characters: under {min} it can be guessed. Use one made with "
              "python -c \"import secrets; print(secrets.token_hex(16))\".",
    },
    "nb_autograde_note": {
        "es": "[{task}] La nota oficial la calcula el calificador aislado del curso, no este "
              "kernel: esta celda no corre las pruebas durante la calificación.",
        "en": "[{task}] The official score comes from the course's isolated grader, not from "
              "this kernel: this cell does not run the checks during grading.",
    },
    "nb_sandbox_header": {
        "es": "[{task}] {title}: {score}/{max} puntos (calificado aparte de tu kernel, en un "
              "proceso aislado)",
        "en": "[{task}] {title}: {score}/{max} points (graded apart from your kernel, in an "
              "isolated process)",
    },
    "nb_sandbox_hidden": {
        "es": "Con otros datos (pruebas ocultas): {score}/{max} puntos en total.",
        "en": "With other inputs (hidden tests): {score}/{max} points in all.",
    },
    "nb_hidden_check_failed": {
        "es": "Pasa con los datos de ejemplo pero no con otros: revisá que tu código no dependa "
              "de esos casos en particular (los datos ocultos no se muestran).",
        "en": "Passes on the sample inputs but not on others: check that your code does not "
              "depend on those particular cases (the hidden inputs are not shown).",
    },
    "nb_isolation_missing": {
        "es": "Aviso: este cuaderno se calificó sin aislamiento completo ({what}); las notas "
              "salen igual del calificador aislado.",
        "en": "Warning: this notebook was graded without full isolation ({what}); the scores "
              "still come from the isolated grader.",
    },
    # ------------------------------------------------------------- summaries
    "summary_title": {
        "es": "Práctico 2: puntaje por tarea",
        "en": "Práctico 2: score per task",
    },
    "feedback_title": {"es": "Práctico 2: devolución de {student}",
                       "en": "Practical 2: feedback for {student}"},
    "feedback_total": {"es": "Puntaje total", "en": "Total score"},
    "feedback_task": {"es": "Tarea", "en": "Task"},
    "feedback_points": {"es": "Puntos", "en": "Points"},
    "feedback_status": {"es": "Estado", "en": "Status"},
    "label_passed": {"es": "completa", "en": "passed"},
    "label_failed": {"es": "con errores", "en": "failed"},
    "label_partial": {"es": "parcial", "en": "partial"},
    "label_not_implemented": {"es": "sin implementar", "en": "not implemented"},
    "label_missing_file": {"es": "falta el archivo", "en": "file missing"},
    "label_missing_name": {"es": "falta un nombre", "en": "name missing"},
    "label_import_error": {"es": "error al importar", "en": "import error"},
    "label_not_graded": {"es": "sin calificar", "en": "not graded"},
    "label_error": {"es": "error", "en": "error"},
    "label_timeout": {"es": "tiempo agotado", "en": "timed out"},
    "label_crashed": {"es": "se cayó", "en": "crashed"},
    "label_unreadable_file": {"es": "archivo ilegible", "en": "unreadable file"},
    # ---- issue 18: nbgrader feedback and grade ids
    "nb_layout_zero": {
        "es": "[{task}] 0/{max} puntos: las celdas de nbgrader de este cuaderno fueron "
              "alteradas, así que no se calificó ninguna tarea. Qué se encontró:",
        "en": "[{task}] 0/{max} points: this notebook's nbgrader cells were altered, so no "
              "task was graded. What was found:",
    },
    "nb_layout_duplicate": {
        "es": "la celda {cell} repite el identificador {grade_id} de la celda {first} (¿una "
              "celda copiada y pegada?): borrá la copia.",
        "en": "cell {cell} repeats the id {grade_id} of cell {first} (a cell copied and "
              "pasted?): delete the copy.",
    },
    "nb_layout_unknown": {
        "es": "la celda {cell} dice ser la celda {grade_id} de nbgrader, que este práctico no "
              "tiene: quitale esos metadatos o borrala.",
        "en": "cell {cell} claims to be nbgrader cell {grade_id}, which this assignment does "
              "not have: remove that metadata or delete it.",
    },
    "nb_layout_invalid": {
        "es": "los metadatos de nbgrader de la celda {cell} ({grade_id}) no son válidos: "
              "{detail}.",
        "en": "the nbgrader metadata of cell {cell} ({grade_id}) is not valid: {detail}.",
    },
    "nb_layout_changed": {
        "es": "la celda {cell} ({grade_id}) cambió de tipo: en el práctico es {expected}, en "
              "la entrega dice ser {found}.",
        "en": "cell {cell} ({grade_id}) changed kind: {expected} in the assignment, {found} "
              "in the submission.",
    },
    "nb_layout_more": {
        "es": "... y {count} celdas alteradas más.",
        "en": "... and {count} more altered cells.",
    },
    "nb_layout_fix": {
        "es": "Volvé a entregar el cuaderno sin esos cambios (si hace falta, pasá tus "
              "respuestas a un cuaderno recién descargado); hasta entonces cada tarea vale 0.",
        "en": "Submit the notebook again without those changes (if needed, move your answers "
              "into a freshly downloaded notebook); until then every task scores 0.",
    },
    "nb_layout_restored": {
        "es": "Esta celda de prueba faltaba en el cuaderno entregado: se calificó con la del "
              "práctico.",
        "en": "This grade cell was missing from the submitted notebook: it was graded with "
              "the assignment's.",
    },
    "nb_unsafe_student": {
        "es": "No se califica la carpeta {student}: su nombre tiene {chars}, que formgrader "
              "mostraría como HTML activo. Renombrá la carpeta en submitted/ (letras, "
              "números, espacios, . _ - @ +) y volvé a correr autograde.",
        "en": "Folder {student} is not graded: its name holds {chars}, which formgrader would "
              "show as live HTML. Rename the folder in submitted/ (letters, digits, spaces, "
              ". _ - @ +) and run autograde again.",
    },
    "nb_kind_grade": {"es": "celda de prueba", "en": "grade cell"},
    "nb_kind_solution": {"es": "celda de respuesta", "en": "answer cell"},
    "nb_kind_manual": {"es": "respuesta calificada a mano", "en": "manually graded answer"},
    "nb_kind_locked": {"es": "celda de solo lectura", "en": "read-only cell"},
    "nb_kind_task": {"es": "celda de tarea", "en": "task cell"},
    "nb_kind_plain": {"es": "celda común", "en": "plain cell"},
    "nb_inert_text": {
        "es": "[salida {kinds}: se muestra como texto; la devolución nunca ejecuta HTML, "
              "JavaScript ni SVG de un cuaderno]",
        "en": "[{kinds} output: shown as text; feedback never runs a notebook's HTML, "
              "JavaScript or SVG]",
    },
    "nb_inert_omitted": {
        "es": "[salida {kinds}: no se muestra]",
        "en": "[{kinds} output: not shown]",
    },
    "nb_inert_markdown": {
        "es": "Celda de texto escrita o cambiada en la entrega: se muestra su fuente, sin "
              "formato.",
        "en": "Text cell written or changed in the submission: its source is shown as is, "
              "unformatted.",
    },
    # ------------------------------------------------------------- experiments report
    "exp_title_data": {"es": "Datos: ejemplos de MNIST", "en": "Data: MNIST samples"},
    "exp_title_onehot_mse": {"es": "Red simple, one-hot + MSE", "en": "Simple net, one-hot + MSE"},
    "exp_title_cross_entropy": {"es": "Red simple, entropía cruzada",
                                "en": "Simple net, cross-entropy"},
    "exp_title_parity": {"es": "Paridad de 8 bits: llana vs profunda",
                         "en": "8-bit parity: shallow vs deep"},
    "exp_title_parity_scaling": {"es": "Paridad: escala con los bits",
                                 "en": "Parity: scaling with the bits"},
    "exp_title_deep_sigmoid": {"es": "MLP profunda sigmoide", "en": "Deep sigmoid MLP"},
    "exp_title_deep_relu": {"es": "MLP profunda ReLU", "en": "Deep ReLU MLP"},
    "exp_title_init_probe": {"es": "Inicialización: std por capa",
                             "en": "Initialization: std per layer"},
    "exp_title_he_init": {"es": "MLP ReLU con init. de He", "en": "ReLU MLP with He init"},
    "exp_report_title": {"es": "Práctico 2: experimentos", "en": "Práctico 2: experiments"},
    "exp_report_intro": {
        "es": "Implementación: {impl} · dispositivo: {device} · presupuesto: {budget} · "
              "tiempo total de la corrida: {seconds} s de reloj ({jobs} experimento(s) a la "
              "vez; la tabla da el tiempo de cada uno).",
        "en": "Implementation: {impl} · device: {device} · budget: {budget} · "
              "total time of the run: {seconds} s of wall time ({jobs} experiment(s) at once; "
              "the table gives each one's time).",
    },
    "exp_budget_full": {
        "es": "el del notebook original ({epochs} épocas en MNIST, {parity_epochs} en paridad; "
              "{train} imágenes de entrenamiento)",
        "en": "the seed notebook's ({epochs} MNIST epochs, {parity_epochs} parity epochs; "
              "{train} training images)",
    },
    "exp_budget_quick": {
        "es": "rápido (--quick: {epochs} época(s) sobre {train} imágenes, {parity_epochs} "
              "épocas de paridad); estas accuracies no se comparan con las del notebook",
        "en": "quick (--quick: {epochs} epoch(s) on {train} images, {parity_epochs} parity "
              "epochs); these accuracies are not comparable with the notebook's",
    },
    "exp_unfinished": {"es": "(Corrida interrumpida: faltan experimentos.)",
                       "en": "(Run interrupted: some experiments are missing.)"},
    "exp_col_experiment": {"es": "experimento", "en": "experiment"},
    "exp_col_ours": {"es": "nuestra accuracy en test", "en": "our test accuracy"},
    "exp_col_seed": {"es": "la del notebook", "en": "seed notebook"},
    "exp_col_time": {"es": "tiempo (s)", "en": "time (s)"},
    "exp_col_status": {"es": "estado", "en": "status"},
    "exp_col_task": {"es": "tarea", "en": "task"},
    "exp_status_ok": {"es": "ok", "en": "ok"},
    "exp_status_partial": {"es": "parcial", "en": "partial"},
    "exp_status_not_implemented": {"es": "sin implementar", "en": "not implemented"},
    "exp_status_error": {"es": "error", "en": "error"},
    "exp_status_not_run": {"es": "no se llegó a correr", "en": "not reached"},
    "exp_bits_suffix": {"es": "{bits} bits", "en": "{bits} bits"},
    "exp_section_tasks": {"es": "Tareas", "en": "Tasks"},
    "exp_section_problems": {"es": "Problemas encontrados", "en": "Problems found"},
    "exp_section_notes": {"es": "Notas", "en": "Notes"},
    "exp_section_figures": {"es": "Figuras", "en": "Figures"},
    "exp_section_summary": {"es": "Resumen de MNIST", "en": "MNIST summary"},
    "exp_output_title": {"es": "Lo que imprimió el código (últimas líneas)",
                         "en": "What the code printed (last lines)"},
    "exp_bad_return": {
        "es": "[{task}] {name} devolvió {found}; se esperaba {expected}. Revisá la docstring.",
        "en": "[{task}] {name} returned {found}; expected {expected}. Check the docstring.",
    },
    "exp_standin_note": {
        "es": "DeepMLP_i no está disponible: probe_stats se midió sobre una red de reemplazo "
              "del kit (mismo contrato), no sobre la tuya.",
        "en": "DeepMLP_i is not available: probe_stats was measured on the kit's stand-in net "
              "(same contract), not on yours.",
    },
    "exp_standin_suffix": {"es": " (red de reemplazo del kit)", "en": " (kit's stand-in net)"},
    "exp_internal_error": {
        "es": "Error interno del kit ({exc_type}: {exc_msg}); el detalle quedó en {log}. "
              "Los demás experimentos siguieron.",
        "en": "Internal error of the kit ({exc_type}: {exc_msg}); details in {log}. "
              "The other experiments went on.",
    },
    "exp_parallel_desc": {"es": "{jobs} experimentos a la vez", "en": "{jobs} experiments at once"},
    "exp_interrupted": {"es": "Interrumpido: el reporte tiene lo que llegó a terminar.",
                        "en": "Interrupted: the report holds what finished."},
    "exp_written": {"es": "Reporte: {path}", "en": "Report: {path}"},
    "exp_fig_epoch": {"es": "época", "en": "epoch"},
    "exp_fig_loss": {"es": "pérdida", "en": "loss"},
    "exp_fig_train_loss": {"es": "pérdida de entrenamiento", "en": "training loss"},
    "exp_fig_accuracy": {"es": "accuracy", "en": "accuracy"},
    "exp_fig_val_acc": {"es": "accuracy en validación", "en": "validation accuracy"},
    "exp_fig_test_acc": {"es": "accuracy en test", "en": "test accuracy"},
    "exp_fig_final_acc": {"es": "accuracy final en test", "en": "final test accuracy"},
    "exp_fig_train": {"es": "entrenamiento", "en": "train"},
    "exp_fig_val": {"es": "validación", "en": "validation"},
    "exp_fig_shallow": {"es": "llana", "en": "shallow"},
    "exp_fig_deep": {"es": "profunda", "en": "deep"},
    "exp_fig_chance": {"es": "azar", "en": "chance"},
    "exp_fig_bits": {"es": "cantidad de bits de la entrada", "en": "number of input bits"},
    "exp_fig_hidden_layer": {"es": "capa oculta (1 = primera)",
                             "en": "hidden layer (1 = first)"},
    "exp_fig_linear_layer": {"es": "capa lineal (1 = entrada)", "en": "linear layer (1 = input)"},
    "exp_fig_act_std": {"es": "std de las activaciones", "en": "activation std"},
    "exp_fig_grad_std": {"es": "std del gradiente de los pesos", "en": "weight-gradient std"},
    "exp_fig_act_title": {"es": "Activaciones por capa", "en": "Activations per layer"},
    "exp_fig_grad_title": {"es": "Gradientes por capa", "en": "Gradients per layer"},
    "exp_fig_predicted": {"es": "dígito predicho", "en": "predicted digit"},
    "exp_fig_true": {"es": "dígito real", "en": "true digit"},
    "exp_fig_confusion_title": {"es": "Matriz de confusión en test: {model} ({acc})",
                                "en": "Test confusion matrix: {model} ({acc})"},
    "exp_fig_overview_title": {"es": "Accuracy en validación por época",
                               "en": "Validation accuracy per epoch"},
    "exp_normal_init_note": {
        "es": "Pesos iniciales N(0, 1): con otra semilla esta red termina varios puntos más "
              "arriba o más abajo (aprende a saltos). Esta corrida usó la semilla {seed}; "
              "bench/seed_spread.py prueba otras.",
        "en": "N(0, 1) initial weights: with another seed this net ends several points higher "
              "or lower (it learns in jumps). This run used seed {seed}; bench/seed_spread.py "
              "tries others.",
    },
    "exp_tasks_note": {
        "es": "«ok» quiere decir que el código corrió sin errores en los experimentos; si está "
              "bien lo dicen `pytest exercises` y `python -m grader grade`.",
        "en": "“ok” means the code ran without errors in the experiments; whether it is right "
              "is for `pytest exercises` and `python -m grader grade` to say.",
    },
    # ---- issue 22 item 4 (es): a first hour in Spanish. MNIST missing or damaged
    # (grader/data.py); the experiments' figure labels, divergence marks and alt texts
    # (grader/experiments/figures.py, section7.py, report.py)
    "data_mnist_missing": {
        "es": "No encontré MNIST en {raw} (faltan: {missing}).{why}\n"
              "Cómo arreglarlo, una de dos:\n"
              "  - si ya tenés MNIST, decile al kit dónde está (la carpeta que contiene "
              "MNIST/raw/):\n"
              "      export PRACTICO_DATA=/ruta/a/la/carpeta\n"
              "  - con conexión a internet, descargalo (unos 12 MB) en {root}:\n"
              "      {download}",
        "en": "MNIST was not found in {raw} (missing: {missing}).{why}\n"
              "To fix it, either:\n"
              "  - if you already have MNIST, tell the kit where it is (the folder that holds "
              "MNIST/raw/):\n"
              "      export PRACTICO_DATA=/path/to/that/folder\n"
              "  - with internet access, download it (about 12 MB) into {root}:\n"
              "      {download}",
    },
    "data_mnist_download_failed": {
        "es": " No se pudo descargar: {reason}.",
        "en": " The download failed: {reason}.",
    },
    "data_mnist_corrupt": {
        "es": "{path} no es el archivo de MNIST que dice su nombre (cabecera {found}, {size} "
              "bytes; se esperaba {expected}, {expected_size} bytes). Borralo y el kit lo "
              "vuelve a descargar la próxima vez:\n      {remove}",
        "en": "{path} is not the MNIST file its name says (header {found}, {size} bytes; "
              "expected {expected}, {expected_size} bytes). Delete it and the kit downloads "
              "it again next time:\n      {remove}",
    },
    "exp_fig_grid_train": {"es": "Conjunto de entrenamiento: {call}",
                           "en": "Training set: {call}"},
    "exp_fig_grid_test": {"es": "Conjunto de test: {call}", "en": "Test set: {call}"},
    "exp_split_train": {"es": "entrenamiento", "en": "training"},
    "exp_split_test": {"es": "test", "en": "test"},
    "exp_fig_init_xavier": {"es": "Xavier", "en": "Xavier"},
    "exp_fig_init_he": {"es": "He", "en": "He"},
    "exp_fig_init_orthogonal": {"es": "ortogonal", "en": "orthogonal"},
    "exp_fig_log_count": {"es": "log(1 + cantidad)", "en": "log(1 + count)"},
    "exp_fig_unclipped": {"es": "sin recorte", "en": "unclipped"},
    "exp_fig_clipped": {"es": "con recorte (max_norm={max_norm})",
                        "en": "clipped (max_norm={max_norm})"},
    "exp_diverged_epoch": {"es": "divergió en la época {k}", "en": "diverged at epoch {k}"},
    "exp_diverged_step": {"es": "divergió en el paso {k}", "en": "diverged at step {k}"},
    "exp_alt_grid": {
        "es": "{count} dígitos del conjunto de {split} de MNIST dibujados por {viewer}, en "
              "{rows} filas de {cols}; sus etiquetas, en orden: {labels}.",
        "en": "{count} MNIST {split} digits drawn by {viewer}, in {rows} rows of {cols}; "
              "their labels, in order: {labels}.",
    },
    "exp_alt_curves": {
        "es": "{title}, {epochs} épocas: a la izquierda la pérdida de entrenamiento y la de "
              "validación por época, a la derecha la accuracy en validación, que termina en "
              "{val_acc}.",
        "en": "{title}, {epochs} epochs: on the left the training and validation loss per "
              "epoch, on the right the validation accuracy, which ends at {val_acc}.",
    },
    "exp_alt_parity": {
        "es": "Paridad de {bits} bits, red llana contra red profunda, {epochs} épocas: pérdida "
              "de entrenamiento (izquierda) y accuracy en test (derecha) por época; accuracy "
              "final: {finals}.",
        "en": "{bits}-bit parity, shallow net against deep net, {epochs} epochs: training "
              "loss (left) and test accuracy (right) per epoch; final accuracy: {finals}.",
    },
    "exp_alt_parity_scaling": {
        "es": "Accuracy final en test según la cantidad de bits de la entrada ({bits}), red "
              "llana contra red profunda, con el azar (0.5) como línea de puntos: {finals}.",
        "en": "Final test accuracy against the number of input bits ({bits}), shallow net "
              "against deep net, with chance (0.5) as a dotted line: {finals}.",
    },
    "exp_alt_act_std": {
        "es": "Desvío estándar de las activaciones después de cada una de las {depth} capas "
              "ocultas, en escala logarítmica, con inicialización {inits}; en la última capa: "
              "{last}.",
        "en": "Standard deviation of the activations after each of the {depth} hidden layers, "
              "on a log scale, with {inits} initialization; at the last layer: {last}.",
    },
    "exp_alt_grad_std": {
        "es": "Desvío estándar del gradiente de los pesos en cada capa lineal, en escala "
              "logarítmica, con inicialización {inits}; en la primera capa: {first}.",
        "en": "Standard deviation of the weight gradient in each linear layer, on a log "
              "scale, with {inits} initialization; at the first layer: {first}.",
    },
    "exp_alt_lr_sweep": {
        "es": "Barrido de la tasa de aprendizaje con SGD, {epochs} épocas: pérdida de "
              "entrenamiento (escala logarítmica, izquierda) y accuracy en validación "
              "(derecha) por época, una curva por tasa (lr = {lrs}). La mejor es lr={best}, "
              "con {best_acc} en validación. {diverged}",
        "en": "Learning-rate sweep with SGD, {epochs} epochs: training loss (log scale, left) "
              "and validation accuracy (right) per epoch, one curve per rate (lr = {lrs}). "
              "The best is lr={best}, with {best_acc} on validation. {diverged}",
    },
    "exp_alt_exploding": {
        "es": "Normas del gradiente {unclipped} y {clipped}: a la izquierda, por capa lineal "
              "en el primer paso; a la derecha, la norma total en cada paso de una época con "
              "lr={lr} (escalas logarítmicas). Accuracy en test: {accs}. {diverged}",
        "en": "Gradient norms {unclipped} and {clipped}: on the left, per linear layer at the "
              "first step; on the right, the total norm at each step of one epoch at lr={lr} "
              "(log scales). Test accuracy: {accs}. {diverged}",
    },
    "exp_alt_overview": {
        "es": "Accuracy en validación por época de los {count} modelos de MNIST; al final: "
              "{finals}.",
        "en": "Validation accuracy per epoch of the {count} MNIST models; at the end: "
              "{finals}.",
    },
    "exp_alt_confusion": {
        "es": "Matriz de confusión en test de {model} (accuracy {acc}): en las filas el dígito "
              "real, en las columnas el predicho, cada celda con su cantidad. La confusión más "
              "frecuente: {true} tomado por {pred}, {n} veces.",
        "en": "Test confusion matrix of {model} (accuracy {acc}): rows are the true digit, "
              "columns the predicted one, each cell with its count. The most frequent "
              "confusion: {true} taken for {pred}, {n} times.",
    },
    "exp_alt_diverged": {"es": "Una cruz marca cada divergencia: {runs}.",
                         "en": "A cross marks each divergence: {runs}."},
    "exp_alt_no_value": {"es": "sin valor (nan)", "en": "no value (nan)"},
    "exp_alt_none_diverged": {"es": "Ninguna curva divergió.", "en": "No curve diverged."},
    "exp_alt_fallback": {"es": "Figura de «{title}» ({name}).",
                         "en": "Figure of “{title}” ({name})."},
    # ---- issue 20: the class report (grader/class_report/); every key starts with cr_
    "cr_title": {"es": "Práctico 2: informe de la clase", "en": "Practical 2: class report"},
    "cr_source_autograde": {"es": "resultados de autograde", "en": "autograde results"},
    "cr_source_nbgrader": {"es": "curso de nbgrader, tarea {assignment}",
                           "en": "nbgrader course, assignment {assignment}"},
    "cr_summary": {
        "es": "{source}: {counted} estudiantes contados, {not_counted} sin contar.",
        "en": "{source}: {counted} students counted, {not_counted} not counted.",
    },
    "cr_names_hidden": {
        "es": "Sin nombres: el informe da solo cantidades y se puede mostrar en clase "
              "(con --names dice quiénes).",
        "en": "Without names: the report gives counts only and can be shown in class "
              "(--names says who).",
    },
    "cr_names_shown": {
        "es": "Con nombres (--names): no lo muestres en clase.",
        "en": "With names (--names): do not show it in class.",
    },
    "cr_signed_only": {
        "es": "Cuentan solo los resultados firmados por este kit con la clave de esta cuenta; "
              "los demás figuran en «Sin contar».",
        "en": "Only results this kit signed with this account's key count; any other is "
              "listed under “Not counted”.",
    },
    "cr_section_total": {"es": "Nota total", "en": "Total score"},
    "cr_section_tasks": {"es": "Notas por tarea", "en": "Scores per task"},
    "cr_section_checks": {"es": "Aprobación de cada chequeo", "en": "Pass rate of every check"},
    "cr_section_diagnoses": {"es": "Diagnósticos, del más frecuente al menos",
                             "en": "Diagnoses, most frequent first"},
    "cr_section_lost": {"es": "Chequeos con tiempo agotado o caídos, por motivo",
                        "en": "Checks that timed out or crashed, by reason"},
    "cr_section_revisit": {"es": "Qué repasar en clase", "en": "What to revisit in class"},
    "cr_section_not_counted": {"es": "Sin contar", "en": "Not counted"},
    "cr_col_task": {"es": "tarea", "en": "task"},
    "cr_col_check": {"es": "chequeo", "en": "check"},
    "cr_col_checks": {"es": "chequeos", "en": "checks"},
    "cr_col_students": {"es": "estudiantes", "en": "students"},
    "cr_col_graded": {"es": "calificados", "en": "graded"},
    "cr_col_passed": {"es": "aprobaron", "en": "passed"},
    "cr_col_pass_rate": {"es": "aprobación", "en": "pass rate"},
    "cr_col_mean": {"es": "media", "en": "mean"},
    "cr_col_median": {"es": "mediana", "en": "median"},
    "cr_col_min": {"es": "mínimo", "en": "min"},
    "cr_col_max": {"es": "máximo", "en": "max"},
    "cr_col_full": {"es": "nota completa", "en": "full marks"},
    "cr_col_zero": {"es": "cero", "en": "zero"},
    "cr_col_statuses": {"es": "cómo terminaron", "en": "how they ended"},
    "cr_col_diagnosis": {"es": "diagnóstico", "en": "diagnosis"},
    "cr_col_description": {"es": "qué quiere decir", "en": "what it means"},
    "cr_col_tasks": {"es": "tareas", "en": "tasks"},
    "cr_col_occurrences": {"es": "chequeos que lo dieron", "en": "checks that gave it"},
    "cr_col_status": {"es": "estado", "en": "status"},
    "cr_col_reason": {"es": "motivo", "en": "reason"},
    "cr_col_points_lost": {"es": "puntos perdidos", "en": "points lost"},
    "cr_col_rank": {"es": "#", "en": "#"},
    "cr_col_what": {"es": "qué", "en": "what"},
    "cr_col_out_of": {"es": "sobre", "en": "out of"},
    "cr_revisit_rule": {
        "es": "Orden: puntos perdidos por toda la clase en chequeos que el código intentó "
              "(falló o lanzó un error), agrupados por el primer diagnóstico del chequeo si "
              "tiene uno, si no por el chequeo mismo; a igual puntaje, más estudiantes primero, "
              "después el orden del práctico. No entran el trabajo sin terminar (sin "
              "implementar, archivos o nombres que faltan, errores al importar, archivos "
              "ilegibles) ni los tiempos agotados y caídas: dicen quién no terminó, no qué se "
              "entendió mal. Se muestran los {limit} primeros.",
        "en": "Order: points lost by the whole class on checks the code attempted (it failed "
              "or raised an error), grouped by the check's first diagnosis when it has one, "
              "else by the check itself; ties go to more students, then to the order of the "
              "practical. Unfinished work (not implemented, missing files or names, import "
              "errors, unreadable files) and timeouts and crashes are left out: they say who "
              "did not finish, not what was misunderstood. The first {limit} are shown.",
    },
    "cr_revisit_check": {"es": "chequeo {check} de {task} ({title}), sin diagnóstico",
                         "en": "check {check} of {task} ({title}), no diagnosis"},
    "cr_example_message": {"es": "mensaje más común", "en": "most common message"},
    "cr_no_diagnoses": {
        "es": "Ningún chequeo fallido de estos resultados trae un diagnóstico.",
        "en": "No failed check in these results carries a diagnosis.",
    },
    "cr_no_lost": {"es": "Ningún chequeo agotó su tiempo ni se cayó.",
                   "en": "No check timed out or crashed."},
    "cr_no_revisit": {"es": "Nadie perdió puntos en un chequeo que intentó.",
                      "en": "Nobody lost points on a check they attempted."},
    "cr_none_not_counted": {"es": "Todos los resultados cuentan.",
                            "en": "Every result counts."},
    "cr_no_students": {"es": "No hay resultados firmados que contar.",
                       "en": "There are no signed results to count."},
    "cr_task_not_graded": {"es": "no se calificó en esta corrida",
                           "en": "not graded in this run"},
    "cr_reason_timeout": {"es": "más de {seconds} s", "en": "over {seconds} s"},
    "cr_reason_unknown": {"es": "motivo desconocido", "en": "unknown reason"},
    "cr_nc_unsigned": {
        "es": "result.json sin la firma de este kit (alterado, de otra cuenta o de otro "
              "estudiante)",
        "en": "result.json without this kit's signature (altered, from another account or "
              "another student)",
    },
    "cr_nc_missing": {"es": "sin resultado (no terminó de calificarse)",
                      "en": "no result (grading did not finish)"},
    "cr_nc_pending": {"es": "pendiente en grades.csv", "en": "pending in grades.csv"},
    "cr_nc_grader_error": {"es": "error del corrector (grader_error en grades.csv)",
                           "en": "grader error (grader_error in grades.csv)"},
    "cr_nc_symlink_not_graded": {"es": "enlace simbólico, no se sigue",
                                 "en": "symbolic link, not followed"},
    "cr_nc_malformed": {"es": "resultado firmado pero con otra forma (de otra versión del kit)",
                        "en": "signed result of another shape (from another kit version)"},
    "cr_fig_total_title": {"es": "Nota total de la clase", "en": "Total score of the class"},
    "cr_fig_tasks_title": {"es": "Nota de cada tarea", "en": "Score in each task"},
    "cr_fig_pass_title": {"es": "Aprobación de cada chequeo", "en": "Pass rate of each check"},
    "cr_fig_diag_title": {"es": "Estudiantes con cada diagnóstico",
                          "en": "Students with each diagnosis"},
    "cr_fig_score": {"es": "nota", "en": "score"},
    "cr_fig_students": {"es": "estudiantes", "en": "students"},
    "cr_fig_pass_rate": {"es": "aprobación (%)", "en": "pass rate (%)"},
    "cr_fig_mean": {"es": "media {value}", "en": "mean {value}"},
    "cr_fig_median": {"es": "mediana {value}", "en": "median {value}"},
    "cr_alt_total": {
        "es": "Histograma de la nota total de {n} estudiantes, sobre {max}: media {mean}, "
              "mediana {median}; {bins}.",
        "en": "Histogram of the total score of {n} students, out of {max}: mean {mean}, "
              "median {median}; {bins}.",
    },
    "cr_alt_bin": {"es": "{count} entre {low} y {high}", "en": "{count} between {low} and {high}"},
    "cr_alt_tasks": {
        "es": "Un gráfico de barras por tarea, con cuántos estudiantes sacaron cada nota: {tasks}.",
        "en": "One bar chart per task, with how many students got each score: {tasks}.",
    },
    "cr_alt_count": {"es": "{count} con {score}", "en": "{count} with {score}"},
    "cr_alt_pass": {
        "es": "Barras horizontales con el porcentaje de aprobación de {n} chequeos; los más "
              "bajos: {lowest}.",
        "en": "Horizontal bars with the pass rate of {n} checks; the lowest: {lowest}.",
    },
    "cr_alt_diag": {
        "es": "Barras horizontales con cuántos estudiantes recibieron cada diagnóstico: {items}.",
        "en": "Horizontal bars with how many students got each diagnosis: {items}.",
    },
    # ---------------------------------------- oracle input caps (grader/checks/expect.py)
    "oracle_too_many_layers": {
        "es": "{what}: tiene {found} capas nn.Linear; ninguna red de esta tarea necesita más de "
              "{limit}. Revisá el bucle que construye las capas ocultas.",
        "en": "{what}: has {found} nn.Linear layers; no net of this task needs more than "
              "{limit}. Check the loop that builds the hidden layers.",
    },
    "oracle_layer_shape": {
        "es": "{what}: la capa lineal #{layer} tiene una forma que ninguna red de esta tarea "
              "usa ({found}): cada nn.Linear necesita entre 1 y {limit} entradas y salidas, y "
              "un bias del largo de sus salidas. Revisá los tamaños que le pasás a nn.Linear.",
        "en": "{what}: linear layer #{layer} has a shape no net of this task uses ({found}): "
              "each nn.Linear needs 1 to {limit} inputs and outputs, and a bias as long as its "
              "outputs. Check the sizes you pass to nn.Linear.",
    },
    "oracle_too_many_weights": {
        "es": "{what}: las capas lineales suman más de {limit} pesos, muchos más de los que "
              "pide la tarea. Revisá el ancho y la cantidad de capas.",
        "en": "{what}: the linear layers hold more than {limit} weights, far more than the "
              "task asks for. Check the width and the number of layers.",
    },
    # ---- issue 10: marks are earned (h-marks); every message names the function at fault
    "grads_zero_at_step": {
        "es": "{fn}: en el paso {step} del optimizador los gradientes eran todos cero: se "
              "borraron entre backward() y step(), así que step() no aprende nada. El orden es "
              "zero_grad(), forward, backward(), step().",
        "en": "{fn}: at optimizer step {step} every gradient was zero: they were wiped between "
              "backward() and step(), so step() learns nothing. The order is zero_grad(), "
              "forward, backward(), step().",
    },
    "val_acc_wrong": {
        "es": "{fn}: history[\"val_acc\"] en la época {epoch} es {found}; esperaba {expected}, "
              "la fracción de ejemplos de validación cuyo argmax es su etiqueta. Revisá las "
              "formas al comparar predicciones con etiquetas (ambas (B,)) y entre qué dividís.",
        "en": "{fn}: history[\"val_acc\"] at epoch {epoch} is {found}; expected {expected}, "
              "the fraction of validation examples whose argmax is their label. Check the "
              "shapes when comparing predictions with labels (both (B,)) and what you divide by.",
    },
    "val_acc_inconsistent_fn": {
        "es": "{fn}: la val_acc reportada en la última época ({reported}) no es la accuracy del "
              "modelo entrenado sobre el conjunto de validación (entre {low} y {high}, contando "
              "empates del argmax). Revisá cómo {fn} cuenta los aciertos.",
        "en": "{fn}: the val_acc reported for the last epoch ({reported}) is not the trained "
              "model's accuracy on the validation set (between {low} and {high}, counting "
              "argmax ties). Check how {fn} counts hits.",
    },
    # ---- issue 13: section 7, learning rate and exploding gradients (h-s7)
    "expected_dict": {
        "es": "{what}: esperaba un dict y encontré {found}.",
        "en": "{what}: expected a dict, found {found}.",
    },
    "dict_missing_keys": {
        "es": "{what}: al diccionario le faltan las claves {missing} (tiene: {found}). Usá "
              "exactamente los nombres de la docstring.",
        "en": "{what}: the dict lacks the keys {missing} (it has: {found}). Use exactly the "
              "names in the docstring.",
    },
    "sweep_models_count": {
        "es": "lr_sweep: make_model() se llamó {found} veces para {expected} tasas. Cada tasa "
              "necesita un modelo nuevo: si reusás el mismo, la segunda corrida arranca donde "
              "terminó la primera y la comparación no es justa.",
        "en": "lr_sweep: make_model() was called {found} times for {expected} rates. Each rate "
              "needs a fresh model: reusing one makes the second run start where the first "
              "ended, and the comparison is not fair.",
    },
    "sweep_no_optimizer": {
        "es": "lr_sweep: se construyeron {found} optimizadores con optimizer_cls para {expected} "
              "tasas. Construí uno por corrida con optimizer_cls(model.parameters(), lr=lr).",
        "en": "lr_sweep: {found} optimizers were built with optimizer_cls for {expected} rates. "
              "Build one per run with optimizer_cls(model.parameters(), lr=lr).",
    },
    "sweep_wrong_lr": {
        "es": "lr_sweep: el optimizador de la corrida {run} recibió lr={found}; esperaba "
              "{expected}, la tasa número {run} de lrs. Pasale a cada optimizador su propia tasa.",
        "en": "lr_sweep: the optimizer of run {run} got lr={found}; expected {expected}, rate "
              "number {run} of lrs. Give each optimizer its own rate.",
    },
    "sweep_optimizer_params": {
        "es": "lr_sweep: el optimizador de la corrida {run} (lr={lr}) no tiene exactamente los "
              "parámetros del modelo recién creado para esa corrida. Creá el modelo y después "
              "el optimizador sobre sus parámetros.",
        "en": "lr_sweep: the optimizer of run {run} (lr={lr}) does not hold exactly the "
              "parameters of the model just built for that run. Build the model, then the "
              "optimizer over its parameters.",
    },
    "sweep_step_count": {
        "es": "lr_sweep: la corrida {run} llamó a optimizer.step() {found} veces; esperaba "
              "{expected} (un paso por lote, en cada época).",
        "en": "lr_sweep: run {run} called optimizer.step() {found} times; expected {expected} "
              "(one step per batch, every epoch).",
    },
    "sweep_init_differs": {
        "es": "lr_sweep: la corrida {run} arrancó con pesos iniciales distintos de la primera. "
              "Fijá la semilla (torch.manual_seed(seed)) justo antes de crear cada modelo, así "
              "todas las tasas parten del mismo punto.",
        "en": "lr_sweep: run {run} started from other initial weights than the first one. Set "
              "the seed (torch.manual_seed(seed)) right before building each model, so every "
              "rate starts from the same point.",
    },
    "sweep_seed_not_used": {
        "es": "lr_sweep: todas las corridas arrancan igual, pero no desde la semilla pedida "
              "(seed={seed}). Usá el argumento seed, no un valor fijo.",
        "en": "lr_sweep: every run starts alike, but not from the seed asked for (seed={seed}). "
              "Use the seed argument, not a fixed value.",
    },
    "sweep_val_acc_range": {
        "es": "lr_sweep: val_acc de la corrida {run} tiene valores fuera de [0, 1] o no finitos: "
              "es aciertos / ejemplos de validación.",
        "en": "lr_sweep: val_acc of run {run} has values outside [0, 1] or not finite: it is "
              "hits / validation examples.",
    },
    "sweep_val_acc_wrong": {
        "es": "lr_sweep: val_acc de la época {epoch} de la corrida {run} (lr={lr}) es {found}, "
              "pero los pesos de esa corrida al terminar esa época aciertan {expected} del "
              "conjunto de validación. ¿Estás midiendo ese modelo, en eval() y sobre "
              "val_loader, al final de cada época?",
        "en": "lr_sweep: val_acc of epoch {epoch} of run {run} (lr={lr}) is {found}, but that "
              "run's weights at the end of that epoch get {expected} of the validation set "
              "right. Are you measuring that model, in eval() and on val_loader, at the end "
              "of each epoch?",
    },
    "sweep_record_unreadable": {
        "es": "lr_sweep: lo que registró el optimizador de la corrida {run} no se puede leer "
              "(sus parámetros o sus pasos no son los de un optimizador de optimizer_cls sobre "
              "el modelo de make_model()). Construí el optimizador con "
              "optimizer_cls(model.parameters(), lr=lr) y llamá a optimizer.step() una vez "
              "por lote.",
        "en": "lr_sweep: what the optimizer of run {run} recorded cannot be read (its "
              "parameters or its steps are not those of an optimizer_cls optimizer over the "
              "model from make_model()). Build the optimizer with "
              "optimizer_cls(model.parameters(), lr=lr) and call optimizer.step() once per "
              "batch.",
    },
    "sweep_step_without_grads": {
        "es": "lr_sweep: en el paso {step} de la corrida {run}, optimizer.step() no encontró "
              "ningún gradiente: ese paso no entrenó nada. Cada lote: zero_grad(), pérdida, "
              "loss.backward() y recién entonces step().",
        "en": "lr_sweep: at step {step} of run {run}, optimizer.step() found no gradient at "
              "all: that step trained nothing. Each batch: zero_grad(), loss, loss.backward(), "
              "and only then step().",
    },
    "sweep_lr_changed": {
        "es": "lr_sweep: en el paso {step} de la corrida {run} el optimizador tenía lr={found}, "
              "no {expected}: la tasa de la corrida se cambió después de construirlo. Cada "
              "corrida entrena entera con su propia tasa.",
        "en": "lr_sweep: at step {step} of run {run} the optimizer had lr={found}, not "
              "{expected}: the run's rate was changed after building it. Each run trains all "
              "the way with its own rate.",
    },
    "sweep_optimizer_options": {
        "es": "lr_sweep: el optimizador de la corrida {run} tiene otras opciones además de lr "
              "(momentum, weight_decay, nesterov, dampening o maximize). Se pide "
              "optimizer_cls(model.parameters(), lr=lr), nada más.",
        "en": "lr_sweep: the optimizer of run {run} has other options besides lr (momentum, "
              "weight_decay, nesterov, dampening or maximize). What is asked is "
              "optimizer_cls(model.parameters(), lr=lr), nothing else.",
    },
    "sweep_steps_not_sgd": {
        "es": "lr_sweep: en la corrida {run} (lr={lr}), los pesos después del paso {last} no "
              "son los que da SGD con esa tasa partiendo de los que tenía el modelo cuando se "
              "llamó a step() en el paso {first} (se apartan {error} del tamaño del paso). Un paso por lote, en el orden del "
              "loader: zero_grad(), nn.CrossEntropyLoss() tal cual (su promedio), backward() "
              "y step(); nada más cambia los pesos (ni otro optimizador, ni gradientes de "
              "lotes anteriores).",
        "en": "lr_sweep: in run {run} (lr={lr}), the weights after step {last} are not what "
              "SGD at that rate gives from those the model held when step() was called at "
              "step {first} (they are off by {error} of the step's size). One step per batch, in the loader's order: "
              "zero_grad(), nn.CrossEntropyLoss() as is (its mean), backward() and step(); "
              "nothing else changes the weights (no other optimizer, no gradients left from "
              "earlier batches).",
    },
    "sweep_train_loss_wrong": {
        "es": "lr_sweep: train_loss de la época {epoch} de la corrida {run} (lr={lr}) es "
              "{found}, pero el promedio de las pérdidas de los lotes de esa época es "
              "{expected}. Es el promedio de loss.item() sobre los lotes: ni la suma, ni la "
              "pérdida de un solo lote.",
        "en": "lr_sweep: train_loss of epoch {epoch} of run {run} (lr={lr}) is {found}, but "
              "the mean of that epoch's batch losses is {expected}. It is the mean of "
              "loss.item() over the batches: not their sum, not one batch's loss.",
    },
    "sweep_diverged_not_reported": {
        "es": "lr_sweep: la corrida {run} (lr={lr}) divergió: en la época {epoch} hay pérdidas "
              "de lotes que son nan o inf, y train_loss dice {found}. Reportá el promedio tal "
              "cual (nan o inf): descartar o reemplazar esos valores esconde la divergencia.",
        "en": "lr_sweep: run {run} (lr={lr}) diverged: in epoch {epoch} some batch losses are "
              "nan or inf, and train_loss says {found}. Report the mean as it is (nan or inf): "
              "dropping or replacing those values hides the divergence.",
    },
    "sweep_val_train_mode": {
        "es": "lr_sweep: la corrida {run} evalúa val_loader con el modelo en modo train(). "
              "Pasá a model.eval() antes de medir la exactitud (y a model.train() antes de "
              "volver a entrenar): en modelos con dropout o batch norm cambia el resultado.",
        "en": "lr_sweep: run {run} evaluates val_loader with the model in train() mode. Switch "
              "to model.eval() before measuring accuracy (and back to model.train() before "
              "training again): with dropout or batch norm it changes the result.",
    },
    "sweep_val_with_grad": {
        "es": "lr_sweep: la corrida {run} evalúa val_loader con autograd activo. Envolvé la "
              "validación en torch.no_grad(): no se entrena con esos lotes y guardar el grafo "
              "cuesta memoria y tiempo.",
        "en": "lr_sweep: run {run} evaluates val_loader with autograd on. Wrap validation in "
              "torch.no_grad(): those batches are not trained on, and keeping the graph costs "
              "memory and time.",
    },
    "sweep_val_not_measured": {
        "es": "lr_sweep: la corrida {run} nunca pasó un lote de val_loader por el modelo. "
              "val_acc se mide sobre val_loader, al final de cada época.",
        "en": "lr_sweep: run {run} never ran a batch of val_loader through the model. val_acc "
              "is measured on val_loader, at the end of each epoch.",
    },
    "sweep_mid_not_learning": {
        "es": "lr_sweep: con lr={lr} el modelo debería aprender en una época (accuracy de test "
              ">= {threshold}) y no lo hizo. Accuracies medidas: {accs}. Revisá el bucle: "
              "zero_grad, backward y step en cada lote.",
        "en": "lr_sweep: with lr={lr} the model should learn in one epoch (test accuracy >= "
              "{threshold}) and did not. Measured accuracies: {accs}. Check the loop: "
              "zero_grad, backward and step on every batch.",
    },
    "sweep_high_learns": {
        "es": "lr_sweep: con una tasa enorme (lr={lr}) SGD debería pasarse del valle y "
              "divergir o trabarse, pero el modelo aprendió. Accuracies: {accs}. ¿Se usa de "
              "verdad la tasa de cada corrida?",
        "en": "lr_sweep: with a huge rate (lr={lr}) SGD should overshoot and diverge or stall, "
              "yet the model learned. Accuracies: {accs}. Is each run's rate really used?",
    },
    "sweep_low_not_slow": {
        "es": "lr_sweep: con una tasa muy chica (lr={lr}) los pasos son minúsculos y en una "
              "época casi no se avanza, pero aprendió casi tanto como la tasa intermedia. "
              "Accuracies: {accs}. ¿Se usa de verdad la tasa de cada corrida?",
        "en": "lr_sweep: with a tiny rate (lr={lr}) the steps are minute and one epoch barely "
              "moves, yet it learned about as much as the middle rate. Accuracies: {accs}. Is "
              "each run's rate really used?",
    },
    "norms_not_list": {
        "es": "{what}: esperaba una lista de floats, una norma por capa nn.Linear; encontré "
              "{found}.",
        "en": "{what}: expected a list of floats, one norm per nn.Linear layer; found {found}.",
    },
    "norms_whole_model": {
        "es": "{what}: devolviste la norma del gradiente de todo el modelo, no una por capa. "
              "Se piden {layers} valores: para cada nn.Linear, la norma de su weight.grad.",
        "en": "{what}: you returned the gradient norm of the whole model, not one per layer. "
              "{layers} values are asked for: for each nn.Linear, the norm of its weight.grad.",
    },
    "norms_of_weights": {
        "es": "{what}: los valores son las normas de los pesos, no de sus gradientes. Usá "
              "capa.weight.grad después de backward().",
        "en": "{what}: the values are the norms of the weights, not of their gradients. Use "
              "layer.weight.grad after backward().",
    },
    "norms_with_bias": {
        "es": "{what}: cada valor incluye el gradiente del bias. Se pide solo el del peso "
              "(capa.weight.grad).",
        "en": "{what}: each value includes the bias gradient. Only the weight's is asked for "
              "(layer.weight.grad).",
    },
    "norms_reversed": {
        "es": "{what}: las normas están en orden inverso. Va primero la capa de entrada, como "
              "en model.modules().",
        "en": "{what}: the norms are in reverse order. The input layer goes first, as in "
              "model.modules().",
    },
    "norms_grads_not_cleared": {
        "es": "{what}: los gradientes incluyen los que ya tenía el modelo antes de la llamada "
              "(backward los suma). Borralos antes del forward (model.zero_grad()).",
        "en": "{what}: the gradients include those the model already held before the call "
              "(backward adds up). Clear them before the forward pass (model.zero_grad()).",
    },
    "norms_squared": {
        "es": "{what}: los valores son normas al cuadrado. Se pide la norma L2: la raíz de la "
              "suma de cuadrados (tensor.norm()).",
        "en": "{what}: the values are squared norms. The L2 norm is asked for: the square root "
              "of the sum of squares (tensor.norm()).",
    },
    "norms_mismatch": {
        "es": "{what}: las normas no coinciden con un cálculo independiente sobre la misma "
              "red y el mismo lote (pérdida criterion(model(X), y), backward, norma L2 de cada "
              "weight.grad). Revisá la pérdida, el tensor y la medida.",
        "en": "{what}: the norms do not match an independent computation on the same net and "
              "batch (loss criterion(model(X), y), backward, L2 norm of each weight.grad). Check "
              "the loss, the tensor and the measure.",
    },
    "norms_grads_not_kept": {
        "es": "grad_norms: después de la llamada, el .grad de los pesos del modelo debería "
              "tener los gradientes de esa pérdida (encontré: {found}). loss.backward() los "
              "deja ahí; torch.autograd.grad no, y las celdas siguientes del práctico los leen.",
        "en": "grad_norms: after the call, the model's weights' .grad should hold that loss's "
              "gradients (found: {found}). loss.backward() leaves them there; "
              "torch.autograd.grad does not, and the practical's next cells read them.",
    },
    "norms_no_growth": {
        "es": "grad_norms: en una red profunda con pesos demasiado grandes, la norma del "
              "gradiente de la capa de entrada debería ser al menos {threshold} veces la de la "
              "última capa oculta (el gradiente es un producto de jacobianas), y la razón fue "
              "{ratio}.",
        "en": "grad_norms: in a deep net with too-large weights, the input layer's gradient "
              "norm should be at least {threshold} times the last hidden layer's (the gradient "
              "is a product of Jacobians), and the ratio was {ratio}.",
    },
    "clip_optimizer_count": {
        "es": "train_clipped: esperaba un optimizador construido con optimizer_cls, se "
              "construyeron {found}.",
        "en": "train_clipped: expected one optimizer built with optimizer_cls, {found} were "
              "built.",
    },
    "clip_step_count": {
        "es": "train_clipped: optimizer.step() se llamó {found} veces; esperaba {expected}, uno "
              "por lote.",
        "en": "train_clipped: optimizer.step() was called {found} times; expected {expected}, "
              "one per batch.",
    },
    "clip_not_before_step": {
        "es": "train_clipped: en el paso {step}, optimizer.step() encontró gradientes de norma "
              "{found} > max_norm={max_norm}, sin recortar. El recorte va entre backward() y "
              "step(): después de step() ya no cambia nada.",
        "en": "train_clipped: at step {step}, optimizer.step() found gradients of norm {found} "
              "> max_norm={max_norm}, unclipped. Clipping goes between backward() and step(): "
              "after step() it changes nothing.",
    },
    "clip_norm_over": {
        "es": "train_clipped: en el paso {step} la norma total de los gradientes era {found} > "
              "max_norm={max_norm}. Recortá la norma de todos los gradientes juntos "
              "(clip_grad_norm_ sobre model.parameters()), entre backward() y step().",
        "en": "train_clipped: at step {step} the total gradient norm was {found} > "
              "max_norm={max_norm}. Clip the norm of all the gradients together (clip_grad_norm_ "
              "over model.parameters()), between backward() and step().",
    },
    "clip_no_grads": {
        "es": "train_clipped: en el paso {step}, optimizer.step() no encontró los gradientes de "
              "todos los parámetros del modelo.",
        "en": "train_clipped: at step {step}, optimizer.step() did not find gradients for every "
              "parameter of the model.",
    },
    "clip_direction_changed": {
        "es": "train_clipped: el gradiente recortado no apunta como el original (coseno "
              "{cos}). Recortar por norma solo escala el vector; recortar cada valor (por "
              "valor) o cada capa aparte cambia la dirección.",
        "en": "train_clipped: the clipped gradient does not point like the original (cosine "
              "{cos}). Clipping by norm only scales the vector; clipping each value (by value) "
              "or each layer apart changes its direction.",
    },
    "clip_wrong_scale": {
        "es": "train_clipped: el gradiente recortado tiene la dirección correcta pero norma "
              "{found}; debería quedar exactamente en max_norm={max_norm} cuando la supera.",
        "en": "train_clipped: the clipped gradient points the right way but has norm {found}; "
              "it should be exactly max_norm={max_norm} when it exceeded it.",
    },
    "clip_reported_norm": {
        "es": "train_clipped: log[\"grad_norm\"] del paso {step} es {found}; esperaba "
              "{expected}, la norma total *antes* de recortar (la que devuelve clip_grad_norm_).",
        "en": "train_clipped: log[\"grad_norm\"] of step {step} is {found}; expected "
              "{expected}, the total norm *before* clipping (what clip_grad_norm_ returns).",
    },
    "clip_reported_loss": {
        "es": "train_clipped: log[\"loss\"] del paso {step} es {found}; esperaba {expected}, "
              "la pérdida de ese lote (loss.item()).",
        "en": "train_clipped: log[\"loss\"] of step {step} is {found}; expected {expected}, "
              "that batch's loss (loss.item()).",
    },
    "clip_record_unreadable": {
        "es": "train_clipped: lo que registró el optimizador no se puede leer (sus parámetros "
              "o sus pasos no son los de optimizer_cls(model.parameters(), lr=lr) sobre el "
              "modelo recibido).",
        "en": "train_clipped: what the optimizer recorded cannot be read (its parameters or "
              "its steps are not those of optimizer_cls(model.parameters(), lr=lr) over the "
              "model you were given).",
    },
    "clip_lr_changed": {
        "es": "train_clipped: en el paso {step} el optimizador tenía lr={found}, no {expected}. "
              "No cambies la tasa: el recorte es lo que evita que diverja.",
        "en": "train_clipped: at step {step} the optimizer had lr={found}, not {expected}. Do "
              "not change the rate: clipping is what keeps it from diverging.",
    },
    "clip_optimizer_options": {
        "es": "train_clipped: el optimizador tiene otras opciones además de lr (momentum, "
              "weight_decay, nesterov, dampening o maximize). Se pide "
              "optimizer_cls(model.parameters(), lr=lr), nada más: el recorte es lo único que "
              "cambia el paso.",
        "en": "train_clipped: the optimizer has other options besides lr (momentum, "
              "weight_decay, nesterov, dampening or maximize). What is asked is "
              "optimizer_cls(model.parameters(), lr=lr), nothing else: clipping is the only "
              "thing that changes the step.",
    },
    "clip_steps_not_sgd": {
        "es": "train_clipped: los pesos después del paso {last} no son los que dan, partiendo "
              "de los que tenía el modelo cuando se llamó a step() en el paso {first}, pasos de "
              "lr por el gradiente recortado (se apartan {error} del tamaño del paso). En cada lote: zero_grad(), pérdida, backward(), clip_grad_norm_ y "
              "optimizer.step() del optimizador que construiste con optimizer_cls; nada más "
              "cambia los pesos.",
        "en": "train_clipped: the weights after step {last} are not what steps of lr times "
              "the clipped gradient give from those the model held when step() was called at "
              "step {first} (they are off by {error} of the step's size). On each batch: zero_grad(), loss, backward(), clip_grad_norm_ and "
              "optimizer.step() of the optimizer you built with optimizer_cls; nothing else "
              "changes the weights.",
    },
    "clip_did_not_rescue": {
        "es": "train_clipped: con recorte, una tasa que sin recorte diverge debería entrenar: "
              "el modelo entrenado acierta {acc} del test (mínimo {threshold}). Recortá en cada "
              "paso, antes de step().",
        "en": "train_clipped: with clipping, a rate that diverges without it should train: the "
              "trained model gets {acc} of the test set right (at least {threshold}). Clip at "
              "every step, before step().",
    },
    "exp_title_lr_sweep": {"es": "Barrido de la tasa de aprendizaje (SGD)",
                           "en": "Learning-rate sweep (SGD)"},
    "exp_title_exploding": {"es": "Gradientes que explotan: con y sin recorte",
                            "en": "Exploding gradients: with and without clipping"},
    "exp_fig_grad_norm": {"es": "norma del gradiente del peso", "en": "weight-gradient norm"},
    "exp_fig_step": {"es": "paso", "en": "step"},
    "exp_fig_total_grad_norm": {"es": "norma total del gradiente (antes de recortar)",
                                "en": "total gradient norm (before clipping)"},
    # ---- issue 22 items 1-2 (lms): grades into Canvas and Moodle (grader/lms/), similarity
    # report (grader/similarity/)
    "lms_roster_unreadable": {
        "es": "No se puede leer la lista de estudiantes {path} ({reason}).",
        "en": "Cannot read the roster {path} ({reason}).",
    },
    "lms_roster_too_big": {
        "es": "La lista de estudiantes {path} pesa más de {mib} MiB: no parece una lista de "
              "curso. Exportá solo las columnas de estudiantes.",
        "en": "The roster {path} is over {mib} MiB: not a class list. Export only the "
              "students' columns.",
    },
    "lms_roster_not_utf8": {
        "es": "La lista de estudiantes {path} no está en UTF-8 (byte {offset}). Guardala como "
              "«CSV UTF-8» desde la planilla.",
        "en": "The roster {path} is not UTF-8 (byte {offset}). Save it as \"CSV UTF-8\" from "
              "the spreadsheet.",
    },
    "lms_roster_bad_csv": {
        "es": "La lista de estudiantes {path} no es un CSV válido: {reason}.",
        "en": "The roster {path} is not valid CSV: {reason}.",
    },
    "lms_roster_empty": {
        "es": "La lista de estudiantes {path} está vacía: hace falta una fila de encabezados y "
              "una fila por estudiante.",
        "en": "The roster {path} is empty: it needs a header row and one row per student.",
    },
    "lms_roster_no_folder": {
        "es": "La lista de estudiantes {path} no tiene la columna «folder»: agregala, con el "
              "nombre de la carpeta de cada estudiante (o su id de nbgrader).",
        "en": "The roster {path} has no \"folder\" column: add it, holding each student's "
              "folder name (or nbgrader id).",
    },
    "lms_roster_no_canvas": {
        "es": "La lista de estudiantes {path} no tiene ninguna columna con la que Canvas "
              "encuentre a un estudiante: «ID», «SIS User ID» o «SIS Login ID» (las de la "
              "exportación de notas de Canvas).",
        "en": "The roster {path} has none of the columns Canvas finds a student by: \"ID\", "
              "\"SIS User ID\" or \"SIS Login ID\" (those of Canvas's gradebook export).",
    },
    "lms_roster_no_email": {
        "es": "La lista de estudiantes {path} no tiene la columna «Email address» (o «email»); "
              "o usá --moodle-id idnumber con una columna «ID number».",
        "en": "The roster {path} has no \"Email address\" (or \"email\") column; or use "
              "--moodle-id idnumber with an \"ID number\" column.",
    },
    "lms_roster_no_idnumber": {
        "es": "La lista de estudiantes {path} no tiene la columna «ID number» (o «idnumber»); "
              "o usá --moodle-id email con una columna «Email address».",
        "en": "The roster {path} has no \"ID number\" (or \"idnumber\") column; or use "
              "--moodle-id email with an \"Email address\" column.",
    },
    "lms_roster_problems": {
        "es": "La lista de estudiantes {path} tiene filas que no se pueden usar sin adivinar:",
        "en": "The roster {path} has rows that cannot be used without guessing:",
    },
    "lms_roster_blank_folder": {
        "es": "filas sin «folder»: {rows}.",
        "en": "rows with no \"folder\": {rows}.",
    },
    "lms_roster_row_without_canvas": {
        "es": "filas sin «ID», «SIS User ID» ni «SIS Login ID»: {rows}.",
        "en": "rows with no \"ID\", \"SIS User ID\" or \"SIS Login ID\": {rows}.",
    },
    "lms_roster_row_without_email": {
        "es": "filas sin correo: {rows}.",
        "en": "rows with no email: {rows}.",
    },
    "lms_roster_row_without_idnumber": {
        "es": "filas sin «ID number»: {rows}.",
        "en": "rows with no \"ID number\": {rows}.",
    },
    "lms_roster_folder_twice": {
        "es": "la misma carpeta en dos filas: {rows}.",
        "en": "one folder on two rows: {rows}.",
    },
    "lms_roster_identity_twice": {
        "es": "la misma identidad del LMS en dos filas: {rows}.",
        "en": "one LMS identity on two rows: {rows}.",
    },
    "lms_source_missing": {
        "es": "{path}: no existe esa carpeta. Dá la carpeta de resultados de autograde (la de "
              "--out) o la carpeta del curso de nbgrader.",
        "en": "{path}: no such folder. Give the autograde results folder (its --out) or the "
              "nbgrader course folder.",
    },
    "lms_source_unknown": {
        "es": "{path} no es una carpeta de resultados de autograde (no tiene students/) ni un "
              "curso de nbgrader (no tiene nbgrader_config.py).",
        "en": "{path} is neither an autograde results folder (it has no students/) nor an "
              "nbgrader course (it has no nbgrader_config.py).",
    },
    "lms_source_unreadable": {
        "es": "No se puede leer {path} ({reason}).",
        "en": "Cannot read {path} ({reason}).",
    },
    "lms_assignment_results": {
        "es": "--assignment es para un curso de nbgrader; una carpeta de resultados de "
              "autograde tiene una sola tarea (nombrá su columna con --title).",
        "en": "--assignment is for an nbgrader course; an autograde results folder holds one "
              "assignment (name its column with --title).",
    },
    "lms_mixed_max_score": {
        "es": "Los resultados no tienen todos el mismo puntaje máximo (se calificaron con "
              "distintos --tasks), así que no hay un único «puntos posibles»: {parts}. "
              "Calificá a todos con las mismas tareas.",
        "en": "The results do not all have the same maximum score (graded with different "
              "--tasks), so there is no one \"points possible\": {parts}. Grade everyone with "
              "the same tasks.",
    },
    "lms_course_config": {
        "es": "No se pudo cargar {path}/nbgrader_config.py: {reason}.",
        "en": "{path}/nbgrader_config.py could not be loaded: {reason}.",
    },
    "lms_course_no_gradebook": {
        "es": "{path}: el curso todavía no tiene gradebook. Corré `nbgrader autograde` primero.",
        "en": "{path}: the course has no gradebook yet. Run `nbgrader autograde` first.",
    },
    "lms_no_nbgrader": {
        "es": "nbgrader no está instalado en este entorno: `pip install -e \".[notebook]\"` "
              "(o `./kit setup`).",
        "en": "nbgrader is not installed here: `pip install -e \".[notebook]\"` (or "
              "`./kit setup`).",
    },
    "lms_course_no_assignment": {
        "es": "El gradebook no tiene la tarea {names} (tiene: {known}).",
        "en": "The gradebook has no assignment {names} (it has: {known}).",
    },
    "lms_course_empty": {
        "es": "El gradebook de {path} no tiene tareas todavía.",
        "en": "The gradebook of {path} has no assignments yet.",
    },
    "lms_moodle_one_assignment": {
        "es": "Moodle importa una nota por archivo: elegí una tarea con --assignment (hay "
              "varias: {names}).",
        "en": "Moodle imports one grade per file: pick one assignment with --assignment "
              "(there are several: {names}).",
    },
    "lms_title_one_assignment": {
        "es": "--title nombra una sola columna: elegí una tarea con --assignment.",
        "en": "--title names one column: pick one assignment with --assignment.",
    },
    "lms_default_title": {"es": "Práctico 2", "en": "Práctico 2"},
    "lms_moodle_email_header": {"es": "Dirección de correo", "en": "Email address"},
    "lms_moodle_idnumber_header": {"es": "Número de ID", "en": "ID number"},
    "lms_moodle_feedback_header": {
        "es": "Retroalimentación: {title}",
        "en": "Feedback: {title}",
    },
    "lms_near_match": {
        "es": "{name} (¿es {roster} de la lista? se escriben igual pero con otros caracteres "
              "Unicode)",
        "en": "{name} (is it {roster} of the roster? they read the same but differ in Unicode "
              "characters)",
    },
    "lms_and_more": {"es": "y {count} más", "en": "and {count} more"},
    "lms_problem_unverified": {
        "es": "{count} con un result.json que no firmó este kit (o fue modificado): sin nota "
              "hasta volver a calificarlos con autograde: {names}",
        "en": "{count} with a result.json this kit did not sign (or that was changed): no "
              "grade until autograde grades them again: {names}",
    },
    "lms_problem_not_graded": {
        "es": "{count} todavía sin calificar (pendientes o con error del calificador; corré "
              "autograde de nuevo): {names}",
        "en": "{count} not graded yet (pending, or a grader error; run autograde again): "
              "{names}",
    },
    "lms_problem_manual": {
        "es": "{count} con la entrega pendiente de corrección manual en nbgrader (formgrader): "
              "{names}",
        "en": "{count} whose submission still needs manual grading in nbgrader (formgrader): "
              "{names}",
    },
    "lms_problem_link": {
        "es": "{count} entradas que son enlaces simbólicos, no seguidos: {names}",
        "en": "{count} entries that are symbolic links, not followed: {names}",
    },
    "lms_problem_not_in_roster": {
        "es": "{count} con nota pero sin fila en la lista de estudiantes: {names}",
        "en": "{count} graded but not in the roster: {names}",
    },
    "lms_problem_no_submission": {
        "es": "{count} en la lista de estudiantes sin ninguna nota: {names}",
        "en": "{count} in the roster with no grade at all: {names}",
    },
    "lms_problem_neutralised": {
        "es": "{count} con un nombre o id que empieza como una fórmula de planilla (=, +, -, "
              "@...): se escribió con un ' delante y el LMS no los va a encontrar hasta "
              "corregir la lista: {names}",
        "en": "{count} whose name or id begins like a spreadsheet formula (=, +, -, @...): "
              "written with a leading ' and the LMS will not find them until the roster is "
              "fixed: {names}",
    },
    "lms_out_inside_source": {
        "es": "--out queda dentro de la carpeta de origen: guardá el archivo en otro lugar.",
        "en": "--out is inside the source folder: write the file somewhere else.",
    },
    "lms_not_written": {
        "es": "No se escribió {out}: corregí lo de arriba, o usá --allow-incomplete para "
              "escribirlo sin esos estudiantes.",
        "en": "{out} not written: fix the above, or use --allow-incomplete to write it "
              "without those students.",
    },
    "lms_written": {
        "es": "{rows} estudiante(s) en {out} (importación de {lms})",
        "en": "{rows} student(s) in {out} ({lms} import)",
    },
    "sim_not_installed": {
        "es": "El informe de similitud usa copydetect y datasketch, que no están instalados: "
              "`pip install -e \".[similarity]\"` (o `./kit setup`).",
        "en": "The similarity report uses copydetect and datasketch, which are not installed: "
              "`pip install -e \".[similarity]\"` (or `./kit setup`).",
    },
    "sim_no_starter": {
        "es": "{path}: no existe la carpeta con el código inicial (exercises/). Indicala con "
              "--starter.",
        "en": "{path}: no such starter-code folder (exercises/). Give it with --starter.",
    },
    "sim_link_terminal": {
        "es": "{name}: un enlace simbólico, no seguido ni comparado; poné ahí la carpeta propia "
              "del estudiante para compararla",
        "en": "{name}: a symbolic link, not followed and not compared; put the student's own "
              "folder there to compare it",
    },
    "sim_summary": {
        "es": "{students} estudiantes, {compared} pares comparados, {flagged} señalados "
              "({seconds} s): {html}, {csv}",
        "en": "{students} students, {compared} pairs compared, {flagged} flagged ({seconds} "
              "s): {html}, {csv}",
    },
    "sim_title": {"es": "Informe de similitud de código", "en": "Code similarity report"},
    "sim_not_a_grade": {
        "es": "Este informe no es parte de ninguna nota ni prueba nada por sí solo: señala "
              "pares de entregas con mucho código propio en común (sin contar el código "
              "inicial que todos recibieron), para que alguien los mire. Dos soluciones "
              "correctas y cortas pueden parecerse sin copia.",
        "en": "This report is no part of any grade and proves nothing by itself: it points "
              "at pairs of submissions with much of their own code in common (the starter "
              "code everyone got left out), for someone to look at. Two short correct "
              "solutions can look alike without copying.",
    },
    "sim_students": {
        "es": "{count} estudiantes, {coding} con código propio",
        "en": "{count} students, {coding} with code of their own",
    },
    "sim_method_all": {
        "es": "Se compararon todos los pares: {compared}.",
        "en": "Every pair was compared: {compared}.",
    },
    "sim_method_prefilter": {
        "es": "Se compararon {compared} de {total} pares: los que un prefiltro MinHash LSH "
              "eligió por tener algún archivo parecido, y todas las entregas idénticas.",
        "en": "{compared} of {total} pairs were compared: those a MinHash LSH pre-filter "
              "picked for some file in common, and every identical submission.",
    },
    "sim_rule": {
        "es": "Se señala un par cuando, en promedio, {threshold} del código propio de cada "
              "uno está en el del otro (o las entregas son idénticas), con al menos {tokens} "
              "tokens en común.",
        "en": "A pair is flagged when on average {threshold} of each one's own code is in the "
              "other's (or the submissions are identical), with at least {tokens} tokens in "
              "common.",
    },
    "sim_flagged": {"es": "Pares señalados: {count}", "en": "Pairs flagged: {count}"},
    "sim_notes": {"es": "Lo que no se comparó", "en": "What was not compared"},
    "sim_links": {
        "es": "Enlaces simbólicos en la carpeta del curso, no seguidos: {names}",
        "en": "Symbolic links in the class folder, not followed: {names}",
    },
    "sim_file_refused": {
        "es": "{student}: {file} no se leyó: {reason}",
        "en": "{student}: {file} was not read: {reason}",
    },
    "sim_not_utf8": {
        "es": "{student}: {files} no está en UTF-8 (los bytes inválidos se leyeron como «�»)",
        "en": "{student}: {files} is not UTF-8 (invalid bytes read as \"�\")",
    },
    "sim_top_pairs": {"es": "Los {count} pares más parecidos",
                      "en": "The {count} most similar pairs"},
    "sim_no_pairs": {"es": "Ningún par tiene código propio en común.",
                     "en": "No pair has code of its own in common."},
    "sim_details": {"es": "Código en común, lado a lado", "en": "Code in common, side by side"},
    "sim_col_rank": {"es": "#", "en": "#"},
    "sim_col_a": {"es": "estudiante A", "en": "student A"},
    "sim_col_b": {"es": "estudiante B", "en": "student B"},
    "sim_col_score": {"es": "similitud", "en": "similarity"},
    "sim_col_a_in_b": {"es": "de A en B", "en": "of A in B"},
    "sim_col_b_in_a": {"es": "de B en A", "en": "of B in A"},
    "sim_col_tokens": {"es": "tokens en común", "en": "tokens in common"},
    "sim_col_flag": {"es": "señalado", "en": "flagged"},
    "sim_yes": {"es": "sí", "en": "yes"},
    "sim_identical": {"es": "idénticas", "en": "identical"},
}

# ---- issue 20: the diagnoses' texts live in their own module (grader/diagnosis_messages.py)
from grader.diagnosis_messages import DIAGNOSIS_MESSAGES  # noqa: E402

MESSAGES.update(DIAGNOSIS_MESSAGES)

# ---- issue 22 items 3-4 (term): the command line's texts, argparse's own words, bad input,
# autograde's terminal lines and the regrade preview (grader/cli_messages.py)
from grader.cli_messages import CLI_MESSAGES  # noqa: E402

MESSAGES.update(CLI_MESSAGES)
