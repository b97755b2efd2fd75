"""The catalogue of mistakes: one entry per mistake id.

Each :class:`Mistake` says which tasks it belongs to, which checks it can explain and with
which detector (check id -> function of :mod:`grader.diagnoses.base`), the message a student
reads (``message_key``: ``diag_<id>``, :mod:`grader.diagnosis_messages`) and a title in a few
words (``title_key``: ``diag_title_<id>``, for the class report), and the strength of its evidence, which ranks two
diagnoses of one check (:func:`rank`).

The ids of issue 20 are kept exactly; ids added here: ``viewer_title_index``,
``train_mode_not_restored``, ``acc_broadcast``, ``grads_include_biases``,
``probe_no_backward``, ``seed_arg_ignored``, ``val_on_train_set``,
``wrong_norm_statistic``.
"""

from __future__ import annotations

from dataclasses import dataclass

from grader.diagnoses import exploding, learning, loops, nets, onehot, probe, sweep, viewer, weights
from grader.diagnoses.base import Detector
from grader.i18n import t

#: strength of a detector's evidence, strongest first (the ranking rule, see :func:`rank`)
EVIDENCE = ("oracle", "fit", "pattern")


@dataclass(frozen=True)
class Mistake:
    """One known mistake.

    - ``evidence``: ``"oracle"``, the student's output is exactly what the grader computes
      under the mistake (or reads it directly, a dtype, a column); ``"fit"``, a statistical fit
      (weight distributions, predictions of a trained net); ``"pattern"``, a pattern in what
      the spies recorded (counts, modes, shapes of the net).
    - ``detectors``: check id -> detector; the checks it can explain are the keys.
    """

    id: str
    evidence: str
    detectors: dict[str, Detector]

    @property
    def checks(self) -> tuple[str, ...]:
        return tuple(self.detectors)

    @property
    def tasks(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.split("::")[0] for c in self.detectors))

    @property
    def task(self) -> str:
        """The first task it belongs to (a few mistakes belong to several)."""
        return self.tasks[0]

    @property
    def message_key(self) -> str:
        """The message a student reads (``diag_<id>``)."""
        return f"diag_{self.id}"

    @property
    def title_key(self) -> str:
        """The mistake in a few words (``diag_title_<id>``)."""
        return f"diag_title_{self.id}"


def _on(*groups: tuple[str, ...], fn: Detector) -> dict[str, Detector]:
    return {check: fn for group in groups for check in group}


VIEWER = ("test_viewer::shows_test_image", "test_viewer::title_shows_label",
          "test_viewer::gray_axes_off")
TITLE = ("test_viewer::title_shows_label",)
ONEHOT_SHAPE = ("onehot_mse::one_hot_shape_dtype",)
ONEHOT = ("onehot_mse::one_hot_shape_dtype", "onehot_mse::one_hot_values")
ONEHOT_VALUES = ("onehot_mse::one_hot_values",)
MSE_LOSSES = ("onehot_mse::mse_losses_exact",)
LOSSES = ("onehot_mse::mse_losses_exact", "ce_net::uses_given_criterion")
CE_LOSSES = ("ce_net::uses_given_criterion",)
ZERO_GRAD = ("onehot_mse::fresh_gradients_each_batch", "ce_net::fresh_gradients_each_batch")
MODES = ("onehot_mse::train_eval_modes", "ce_net::train_eval_modes")
LOOP_RUNS = ("onehot_mse::mnist_short_run", "ce_net::mnist_short_run")
#: checks that report a net run on an input (a forward to judge)
FORWARD = ("ce_net::logits_forward", "deep_net::logits_forward", "relu_net::logits_forward",
           "he_init::logits_forward", "relu_net::first_layer_gradients",
           "ce_net::mnist_short_run", "relu_net::mnist_short_run", "he_init::mnist_short_run",
           "deep_net::parity_8_bits", "init_schemes::forward_returns_stds")
#: checks that report a net's layers (structure only, or with a forward)
STRUCTURE = ("ce_net::structure", "deep_net::structure", "init_schemes::xavier_init",
             "init_schemes::he_init", "init_schemes::orthogonal_init",
             "he_init::kaiming_uniform_weights", *FORWARD)
INIT = ("init_schemes::xavier_init", "init_schemes::he_init", "init_schemes::orthogonal_init",
        "he_init::kaiming_uniform_weights")
HE_INIT = ("init_schemes::he_init", "he_init::kaiming_uniform_weights")
UNIFORM_INIT = ("init_schemes::xavier_init", "init_schemes::he_init",
                "he_init::kaiming_uniform_weights")
STDS = ("init_schemes::forward_returns_stds",)
PROBE = ("probe_stats::lengths_and_types", "probe_stats::values_match_independent_computation",
         "probe_stats::trends_xavier_he_orthogonal")
SWEEP = ("lr_sweep::fresh_model_and_rate_per_run", "lr_sweep::same_seed_each_run",
         "lr_sweep::histories_shapes_and_values", "lr_sweep::mnist_pattern_low_mid_high")
SWEEP_RATES = ("lr_sweep::fresh_model_and_rate_per_run", "lr_sweep::mnist_pattern_low_mid_high")
SWEEP_OPTIMIZER = ("lr_sweep::fresh_model_and_rate_per_run",
                   "lr_sweep::histories_shapes_and_values",
                   "lr_sweep::mnist_pattern_low_mid_high")
SWEEP_SEED = ("lr_sweep::same_seed_each_run",)
SWEEP_STEPS = ("lr_sweep::fresh_model_and_rate_per_run", "lr_sweep::histories_shapes_and_values")
SWEEP_HISTORY = ("lr_sweep::histories_shapes_and_values",)
NORMS = ("exploding::norms_match_independent_computation",
         "exploding::deep_norms_grow_toward_input")
CLIP = ("exploding::clip_by_norm_before_step", "exploding::clipping_rescues_high_rate")


def _catalogue(*entries: Mistake) -> dict[str, Mistake]:
    found: dict[str, Mistake] = {}
    for entry in entries:
        if entry.id in found or entry.evidence not in EVIDENCE:
            raise ValueError(f"catalogue: {entry.id!r} twice, or an unknown evidence")
        found[entry.id] = entry
    return found


#: every known mistake, in catalogue order (within one strength, the more specific first)
MISTAKES: dict[str, Mistake] = _catalogue(
    # ------------------------------------------------------------ test_viewer
    Mistake("viewer_train_set", "oracle", _on(VIEWER, fn=viewer.train_set)),
    Mistake("viewer_wrong_index", "oracle", _on(VIEWER, fn=viewer.wrong_index)),
    Mistake("viewer_title_index", "oracle", _on(TITLE, fn=viewer.title_index)),
    Mistake("viewer_no_label", "oracle", _on(TITLE, fn=viewer.no_label)),
    # ------------------------------------------------------------ onehot_mse (and ce_net's loop)
    Mistake("onehot_wrong_class", "oracle", {
        **_on(ONEHOT_VALUES, fn=onehot.wrong_class),
        **_on(MSE_LOSSES, fn=loops.onehot_wrong_class_in_loss),
        **_on(("onehot_mse::mnist_short_run",), fn=learning.learned_other_classes)}),
    Mistake("onehot_not_float32", "oracle", _on(ONEHOT_SHAPE, fn=onehot.not_float32)),
    Mistake("onehot_wrong_num_classes", "oracle", _on(ONEHOT, fn=onehot.wrong_num_classes)),
    Mistake("softmax_before_ce", "oracle", _on(CE_LOSSES, fn=loops.softmax_before_ce)),
    Mistake("criterion_ignored", "oracle", {**_on(CE_LOSSES, fn=loops.criterion_ignored),
                                             **_on(NORMS, fn=exploding.norms_criterion_ignored)}),
    Mistake("wrong_loss", "oracle", _on(LOSSES, fn=loops.wrong_loss)),
    Mistake("loss_not_averaged", "oracle", {**_on(LOSSES, fn=loops.loss_not_averaged),
                                             **_on(SWEEP_STEPS, fn=sweep.loss_not_averaged)}),
    Mistake("grad_not_cleared", "oracle", {**_on(ZERO_GRAD, fn=loops.grad_not_cleared),
                                            **_on(SWEEP_STEPS, fn=sweep.grad_not_cleared)}),
    Mistake("acc_broadcast", "oracle", _on(LOSSES, fn=loops.acc_broadcast)),
    Mistake("acc_not_fraction", "oracle", {**_on(LOSSES, fn=loops.acc_not_fraction),
                                            **_on(LOOP_RUNS, fn=learning.acc_over_one)}),
    Mistake("no_optimizer_step", "pattern", {**_on(ZERO_GRAD, fn=loops.no_optimizer_step),
                                             **_on(LOOP_RUNS, fn=learning.weights_never_stepped)}),
    Mistake("train_mode_not_restored", "pattern", _on(MODES, fn=loops.train_mode_not_restored)),
    Mistake("val_in_train_mode", "pattern", {**_on(MODES, fn=loops.val_in_train_mode),
                                             **_on(SWEEP_HISTORY, fn=sweep.val_in_train_mode)}),
    Mistake("val_with_grad", "pattern", {**_on(MODES, fn=loops.val_with_grad),
                                         **_on(SWEEP_HISTORY, fn=sweep.val_with_grad)}),
    # ------------------------------------------------------------ nets (ce_net, deep_net, relu_net, ...)
    Mistake("missing_activation", "oracle", _on(FORWARD, fn=nets.missing_activation)),
    Mistake("wrong_activation", "oracle", _on(FORWARD, fn=nets.wrong_activation)),
    Mistake("activation_on_output", "oracle", _on(FORWARD, fn=nets.activation_on_output)),
    Mistake("layers_not_registered", "pattern", _on(STRUCTURE, fn=nets.layers_not_registered)),
    Mistake("depth_off_by_one", "pattern", _on(STRUCTURE, fn=nets.depth_off_by_one)),
    Mistake("width_ignored", "pattern", _on(STRUCTURE, fn=nets.width_ignored)),
    # ------------------------------------------------------------ init_schemes, he_init
    Mistake("stds_before_activation", "oracle", _on(STDS, fn=weights.stds_before_activation)),
    Mistake("init_missing_layer", "fit", _on(INIT, fn=weights.init_missing_layer)),
    Mistake("xavier_instead_of_he", "fit", _on(HE_INIT, fn=weights.xavier_instead_of_he)),
    Mistake("he_instead_of_xavier", "fit", _on(("init_schemes::xavier_init",),
                                               fn=weights.he_instead_of_xavier)),
    Mistake("fan_out_mode", "fit", _on(UNIFORM_INIT, fn=weights.fan_out_mode)),
    Mistake("normal_not_uniform", "fit", _on(UNIFORM_INIT, fn=weights.normal_not_uniform)),
    Mistake("orthogonal_no_gain", "fit", _on(("init_schemes::orthogonal_init",),
                                             fn=weights.orthogonal_no_gain)),
    Mistake("bias_not_zero", "fit", _on(INIT, fn=weights.bias_not_zero)),
    # ------------------------------------------------------------ probe_stats
    Mistake("probe_no_backward", "oracle", _on(PROBE, fn=probe.no_backward)),
    Mistake("weight_std_not_grad", "oracle", _on(PROBE, fn=probe.weight_std_not_grad)),
    Mistake("grad_norm_not_std", "oracle", _on(PROBE, fn=probe.grad_norm_not_std)),
    Mistake("loss_sum_not_mean", "oracle", _on(PROBE, fn=probe.loss_sum_not_mean)),
    Mistake("grads_include_biases", "oracle", _on(PROBE, fn=probe.grads_include_biases)),
    Mistake("grads_missing_layers", "oracle", _on(PROBE, fn=probe.grads_missing_layers)),
    Mistake("reversed_layers", "oracle", {**_on(PROBE, fn=probe.reversed_layers),
                                          **_on(NORMS, fn=exploding.norms_reversed)}),
    Mistake("input_not_gaussian", "pattern", _on(PROBE, fn=probe.input_not_gaussian)),
    # ------------------------------------------------------------ lr_sweep
    Mistake("model_reused", "pattern", _on(SWEEP, fn=sweep.model_reused)),
    Mistake("optimizer_not_asked", "pattern", {
        **_on(SWEEP_OPTIMIZER, fn=sweep.optimizer_not_asked),
        **_on(CLIP, fn=exploding.clip_optimizer_not_asked)}),
    Mistake("lr_not_used", "pattern", _on(SWEEP_RATES, fn=sweep.lr_not_used)),
    Mistake("seed_per_run", "pattern", _on(SWEEP_SEED, fn=sweep.seed_per_run)),
    Mistake("seed_arg_ignored", "pattern", _on(SWEEP_SEED, fn=sweep.seed_arg_ignored)),
    Mistake("val_on_train_set", "pattern", _on(SWEEP_HISTORY, fn=sweep.val_on_train_set)),
    # ------------------------------------------------------------ exploding
    Mistake("clip_after_step", "oracle", _on(CLIP, fn=exploding.clip_after_step)),
    Mistake("clip_by_value", "oracle", _on(CLIP, fn=exploding.clip_by_value)),
    Mistake("clip_per_layer", "oracle", _on(CLIP, fn=exploding.clip_per_layer)),
    Mistake("stale_grads", "oracle", {**_on(CLIP, fn=exploding.clip_stale_grads),
                                      **_on(NORMS, fn=exploding.norms_stale)}),
    Mistake("norm_of_wrong_tensor", "oracle", _on(NORMS, fn=exploding.norms_wrong_tensor)),
    Mistake("wrong_norm_statistic", "oracle", _on(NORMS, fn=exploding.norms_wrong_statistic)),
)

#: check id -> the mistakes that can explain it, in catalogue order
BY_CHECK: dict[str, list[Mistake]] = {}
for _mistake in MISTAKES.values():
    for _check in _mistake.checks:
        BY_CHECK.setdefault(_check, []).append(_mistake)


#: check id -> the mistakes that can explain a *crash* of the student's code on it (status
#: ``error``), each with a detector of ``Evidence.out == {"crash": {"exc_type", "exc_msg"}}``:
#: the exception's type and text, matched, never echoed
CRASHES: dict[str, list[tuple[str, Detector]]] = {
    check: [("onehot_wrong_num_classes", onehot.wrong_num_classes_crash)] for check in ONEHOT}


def rank(mistake_id: str) -> tuple[int, int]:
    """The ranking rule of two diagnoses of one check: stronger evidence first (an exact
    recomputation under the mistake, then a statistical fit, then a pattern in the records),
    then catalogue order."""
    order = list(MISTAKES)
    return EVIDENCE.index(MISTAKES[mistake_id].evidence), order.index(mistake_id)


def describe(mistake_id: str, lang: str | None = None) -> str:
    """The mistake in a few words, in ``lang`` (for the class report)."""
    return t(MISTAKES[mistake_id].title_key, lang)


__all__ = ["BY_CHECK", "CRASHES", "EVIDENCE", "MISTAKES", "Mistake", "describe", "rank"]
