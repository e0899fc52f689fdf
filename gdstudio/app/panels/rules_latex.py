"""Each optimizer's update rule and each schedule's rate in LaTeX, one step per line, as torch.optim
computes them (the text forms are in core/optimizers.py and core/schedules.py; g = ∇J(θ))."""

from __future__ import annotations

_ADAM = [r"m \leftarrow \beta_1 m + (1 - \beta_1)\, g", r"v \leftarrow \beta_2 v + (1 - \beta_2)\, g^2",
         r"\theta \leftarrow \theta - \alpha\, \frac{m / (1 - \beta_1^t)}{\sqrt{v / (1 - \beta_2^t)} + \epsilon}"]

RULES: dict[str, list[str]] = {
    "gd": [r"\theta \leftarrow \theta - \alpha\, \nabla J(\theta)"],
    "sgd": [r"b \leftarrow \mu b + (1 - \tau)\, g",
            r"\theta \leftarrow \theta - \alpha\, (g + \mu b)\ \mathrm{(Nesterov)},\ \mathrm{else}\ \theta - \alpha\, b"],
    "adagrad": [r"s \leftarrow s + g^2", r"\theta \leftarrow \theta - \alpha\, \frac{g}{\sqrt{s} + \epsilon}"],
    "rmsprop": [r"v \leftarrow \alpha v + (1 - \alpha)\, g^2", r"\theta \leftarrow \theta - \mathrm{lr}\, \frac{g}{\sqrt{v} + \epsilon}"],
    "adadelta": [r"v \leftarrow \rho v + (1 - \rho)\, g^2", r"\Delta \leftarrow \frac{\sqrt{u + \epsilon}}{\sqrt{v + \epsilon}}\, g",
                 r"u \leftarrow \rho u + (1 - \rho)\, \Delta^2", r"\theta \leftarrow \theta - \mathrm{lr}\, \Delta"],
    "adam": _ADAM,
    "adamw": [r"\theta \leftarrow \theta\, (1 - \alpha \lambda)", *_ADAM],
    "nadam": [r"\mu_t = \beta_1 (1 - \frac{1}{2}\, 0.96^{t \psi})", *_ADAM[:2],
              r"\theta \leftarrow \theta - \alpha\, \frac{\mu_{t+1} m / (1 - \prod_{i \leq t+1} \mu_i)"
              r" + (1 - \mu_t)\, g / (1 - \prod_{i \leq t} \mu_i)}{\sqrt{v / (1 - \beta_2^t)} + \epsilon}"],
    "adamax": [_ADAM[0], r"u \leftarrow \max(\beta_2 u,\ |g| + \epsilon)",
               r"\theta \leftarrow \theta - \frac{\alpha}{1 - \beta_1^t}\, \frac{m}{u}"],
    "radam": [*_ADAM[:2], r"\rho_t = \rho_\infty - \frac{2 t \beta_2^t}{1 - \beta_2^t},\ \ \rho_\infty = \frac{2}{1 - \beta_2} - 1",
              r"r_t = \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\, \rho_\infty}{(\rho_\infty - 4)(\rho_\infty - 2)\, \rho_t}}",
              r"\theta \leftarrow \theta - \alpha\, \frac{m}{1 - \beta_1^t}\, \frac{r_t}{\sqrt{v / (1 - \beta_2^t)} + \epsilon}"
              r"\ \ (\rho_t > 5),\ \mathrm{else}\ \theta - \alpha\, \frac{m}{1 - \beta_1^t}"],
    "newton": [r"(H + \lambda I)\, d = \nabla J\ \ (H + \tau I\ \mathrm{where\ not\ positive\ definite})",
               r"\alpha = \mathrm{lr},\ \mathrm{halved\ until}\ J(\theta - \alpha d) \leq J(\theta) - c\, \alpha\, \nabla J^{\top} d",
               r"\theta \leftarrow \theta - \alpha\, d"],
}

SCHEDULES: dict[str, list[str]] = {
    "constant": [r"\alpha_t = \alpha_0"],
    "step": [r"\alpha_t = \alpha_0\, \gamma^{\lfloor (t - 1) / \mathrm{step\_size} \rfloor}"],
    "exponential": [r"\alpha_t = \alpha_0\, \gamma^{t - 1}"],
    "inverse_time": [r"\alpha_t = \frac{\alpha_0}{1 + k\, (t - 1)}"],
    "cosine": [r"\alpha_t = \eta_{\min} + (\alpha_0 - \eta_{\min})\, \frac{1 + \cos(\pi (t - 1) / T_{\max})}{2}"],
    "warmup": [r"\alpha_t = \alpha_0 \left(s + (e - s)\, \frac{\min(t - 1,\ T)}{T}\right)"],
}
