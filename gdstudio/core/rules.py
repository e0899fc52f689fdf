"""The compiled update rules, one Numba function per optimizer with one signature,

    step(p, g, state, h, t, lr, hess, note)

p: parameters (updated in place), g: gradient (may be overwritten), state: (k, n) per-coordinate
buffers, h: hyper-parameters flattened in registry order, t: the 1-based step number, lr: this
step's learning rate (the schedule's), hess: the exact Hessian (Newton only), note: per-run counters
a rule may fill (see newton.py).

The torch.optim rules follow torch 2.13's single-tensor code operation by operation, rounding
included, so that with the same gradients the updates are torch's bit for bit:
- `x.add(y, alpha=a)` and `addcmul` round once (fma), as torch's compiled kernels do;
- `addcdiv(t1, t2, value=v)` is x + (v·t1)/t2, a tensor divided by a number is a plain division, and a
  number divided by a tensor is the tensor's reciprocal times the number (Tensor.__rtruediv__);
- bias corrections raise β to the step as a float (`beta1 ** step`, step a Python float), i.e. pow(),
  not Numba's integer power by repeated multiplication; a power of 0.5 is math.sqrt, as LLVM compiles `** 0.5`
  anyway (so the Python tier, interpreted.py, computes it the same way).
What stays apart is torch's square root of a tensor, which on x86 comes from MKL and is off by one ulp
for about one argument in a hundred; gdstudio's is the correctly rounded one.
"""

from __future__ import annotations

import math

import numpy as np

from .jit import INLINE, JIT, fma, njit
from .newton import newton_step


@njit(**INLINE)
def _lerp(start, end, weight):
    """torch.lerp's two-sided formula (each side one fma), so moving averages round as torch's do."""
    if abs(weight) < 0.5:
        return fma(weight, end - start, start)
    return fma(-(end - start), 1.0 - weight, end)


@njit(**INLINE)
def gd_step(p, g, state, h, t, lr, hess, note):
    for i in range(p.shape[0]):
        p[i] = p[i] - lr * g[i]


@njit(**INLINE)
def sgd_step(p, g, state, h, t, lr, hess, note):
    momentum, dampening, nesterov, weight_decay, maximize = h[1], h[2], h[3], h[4], h[5]
    for i in range(p.shape[0]):
        d = -g[i] if maximize else g[i]
        if weight_decay != 0:
            d = fma(weight_decay, p[i], d)
        if momentum != 0:
            if t == 1:
                state[0, i] = d
            else:
                state[0, i] = fma(1 - dampening, d, state[0, i] * momentum)
            d = fma(momentum, state[0, i], d) if nesterov else state[0, i]
        p[i] = fma(-lr, d, p[i])


@njit(**INLINE)
def adagrad_step(p, g, state, h, t, lr, hess, note):
    lr_decay, weight_decay, eps, maximize = h[1], h[2], h[4], h[5]
    clr = lr / (1 + (t - 1) * lr_decay)
    for i in range(p.shape[0]):
        d = -g[i] if maximize else g[i]
        if weight_decay != 0:
            d = fma(weight_decay, p[i], d)
        state[0, i] = fma(d, d, state[0, i])
        p[i] = p[i] + (-clr * d) / (math.sqrt(state[0, i]) + eps)


@njit(**INLINE)
def rmsprop_step(p, g, state, h, t, lr, hess, note):
    alpha, eps, weight_decay, momentum, centered, maximize = h[1], h[2], h[3], h[4], h[5], h[6]
    for i in range(p.shape[0]):
        d = -g[i] if maximize else g[i]
        if weight_decay != 0:
            d = fma(weight_decay, p[i], d)
        state[0, i] = fma((1 - alpha) * d, d, state[0, i] * alpha)
        if centered:
            state[1, i] = _lerp(state[1, i], d, 1 - alpha)
            avg = math.sqrt(fma(-1.0 * state[1, i], state[1, i], state[0, i])) + eps
        else:
            avg = math.sqrt(state[0, i]) + eps
        if momentum > 0:
            state[2, i] = state[2, i] * momentum + d / avg
            p[i] = fma(-lr, state[2, i], p[i])
        else:
            p[i] = p[i] + (-lr * d) / avg


@njit(**INLINE)
def adadelta_step(p, g, state, h, t, lr, hess, note):
    rho, eps, weight_decay, maximize = h[1], h[2], h[3], h[4]
    for i in range(p.shape[0]):
        d = -g[i] if maximize else g[i]
        if weight_decay != 0:
            d = fma(weight_decay, p[i], d)
        state[0, i] = fma((1 - rho) * d, d, state[0, i] * rho)
        std = math.sqrt(state[0, i] + eps)
        delta = math.sqrt(state[1, i] + eps) / std * d
        state[1, i] = fma((1 - rho) * delta, delta, state[1, i] * rho)
        p[i] = fma(-lr, delta, p[i])


@njit(**INLINE)
def _moments(p, d, state, i, lr, beta1, beta2, weight_decay, decoupled):
    """The Adam family's common start: weight decay, then m ← lerp(m, d, 1 − β₁), v ← β₂v + (1 − β₂)d²."""
    if weight_decay != 0:
        if decoupled:
            p[i] = p[i] * (1 - lr * weight_decay)
        else:
            d = fma(weight_decay, p[i], d)
    state[0, i] = _lerp(state[0, i], d, 1 - beta1)
    state[1, i] = fma((1 - beta2) * d, d, state[1, i] * beta2)
    return d


@njit(**INLINE)
def adam_step(p, g, state, h, t, lr, hess, note):
    beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupled = h[1], h[2], h[3], h[4], h[5], h[6], h[7]
    step = float(t)
    bias_correction1 = 1 - beta1**step
    bias_correction2 = 1 - beta2**step
    step_size = lr / bias_correction1
    bias_correction2_sqrt = math.sqrt(bias_correction2)
    for i in range(p.shape[0]):
        _moments(p, -g[i] if maximize else g[i], state, i, lr, beta1, beta2, weight_decay, decoupled)
        if amsgrad:
            state[2, i] = max(state[2, i], state[1, i])
            denom = math.sqrt(state[2, i]) / bias_correction2_sqrt + eps
        else:
            denom = math.sqrt(state[1, i]) / bias_correction2_sqrt + eps
        p[i] = p[i] + (-step_size * state[0, i]) / denom


@njit(**INLINE)
def nadam_step(p, g, state, h, t, lr, hess, note):
    beta1, beta2, eps, weight_decay, momentum_decay, decoupled, maximize = h[1], h[2], h[3], h[4], h[5], h[6], h[7]
    step = float(t)
    bias_correction2 = 1 - beta2**step
    mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
    mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
    mu_product = (state[2, 0] if t > 1 else 1.0) * mu
    mu_product_next = mu_product * mu_next
    for i in range(p.shape[0]):
        d = _moments(p, -g[i] if maximize else g[i], state, i, lr, beta1, beta2, weight_decay, decoupled)
        state[2, i] = mu_product
        denom = math.sqrt(state[1, i] / bias_correction2) + eps
        p[i] = p[i] + ((-lr * (1.0 - mu) / (1.0 - mu_product)) * d) / denom
        p[i] = p[i] + (((-lr * mu_next) / (1.0 - mu_product_next)) * state[0, i]) / denom


@njit(**INLINE)
def adamax_step(p, g, state, h, t, lr, hess, note):
    beta1, beta2, eps, weight_decay, maximize = h[1], h[2], h[3], h[4], h[5]
    clr = lr / (1 - beta1 ** float(t))
    for i in range(p.shape[0]):
        d = -g[i] if maximize else g[i]
        if weight_decay != 0:
            d = fma(weight_decay, p[i], d)
        state[0, i] = _lerp(state[0, i], d, 1 - beta1)
        state[1, i] = max(state[1, i] * beta2, abs(d) + eps)
        p[i] = p[i] + (-clr * state[0, i]) / state[1, i]


@njit(**INLINE)
def radam_step(p, g, state, h, t, lr, hess, note):
    beta1, beta2, eps, weight_decay, decoupled, maximize = h[1], h[2], h[3], h[4], h[5], h[6]
    step = float(t)
    bias_correction1 = 1 - beta1**step
    bias_correction2 = 1 - beta2**step
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
    rect = 0.0
    if rho_t > 5.0:
        rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
    for i in range(p.shape[0]):
        _moments(p, -g[i] if maximize else g[i], state, i, lr, beta1, beta2, weight_decay, decoupled)
        corrected = state[0, i] / bias_correction1
        if rho_t > 5.0:
            adaptive = (1.0 / (math.sqrt(state[1, i]) + eps)) * math.sqrt(bias_correction2)
            p[i] = p[i] - corrected * lr * adaptive * rect
        else:
            p[i] = p[i] - corrected * lr


@njit(**INLINE)
def learning_rate(lr0, sched, t):
    """The learning rate of update t (1-based); `sched` is ScheduleInfo.flatten's vector. Everything is in
    floats (powers by pow(), as Python's and torch's closed forms), so no user value is cast to an integer."""
    code = int(sched[0])
    k = t - 1
    if code == 1:  # ⌊k/step_size⌋ in floats: exact while k < 2⁵² (runs stop by 10⁹), for every step_size (1e19: 0)
        return lr0 * sched[2] ** np.floor(k / sched[1])
    if code == 2:
        return lr0 * sched[1] ** float(k)
    if code == 3:
        return lr0 / (1.0 + sched[1] * k)
    if code == 4:
        return sched[2] + (lr0 - sched[2]) * (1.0 + math.cos(math.pi * k / sched[1])) / 2.0
    if code == 5:
        done = min(k, sched[3]) / sched[3]
        return lr0 * (sched[1] + (sched[2] - sched[1]) * done)
    return lr0


STEP_RULES = (gd_step, sgd_step, adagrad_step, rmsprop_step, adadelta_step, adam_step, nadam_step, adamax_step, radam_step,
              newton_step)
NEWTON = STEP_RULES.index(newton_step)


@njit(**JIT)
def apply_step(code, p, g, state, h, t, lr, hess, note):
    """Dispatch to STEP_RULES[code]; a branch per rule lets the run kernel be compiled once."""
    if code == 0:
        gd_step(p, g, state, h, t, lr, hess, note)
    elif code == 1:
        sgd_step(p, g, state, h, t, lr, hess, note)
    elif code == 2:
        adagrad_step(p, g, state, h, t, lr, hess, note)
    elif code == 3:
        rmsprop_step(p, g, state, h, t, lr, hess, note)
    elif code == 4:
        adadelta_step(p, g, state, h, t, lr, hess, note)
    elif code == 5:
        adam_step(p, g, state, h, t, lr, hess, note)
    elif code == 6:
        nadam_step(p, g, state, h, t, lr, hess, note)
    elif code == 7:
        adamax_step(p, g, state, h, t, lr, hess, note)
    elif code == 8:
        radam_step(p, g, state, h, t, lr, hess, note)
    elif code == 9:
        newton_step(p, g, state, h, t, lr, hess, note)
