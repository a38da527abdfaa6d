"""The probes and their scores.

- `linear`: logistic regression (LBFGS, class-balanced loss, a little L2) on cached activations;
- `mlp` / `mlp2`: MazeGPT's d → 512 → classes and its later d → 512 → 256 → classes, AdamW;
- `vprobe`: Physics of LMs' V-probe (version 1): the model frozen, a linear head on the last layer's
  (layer-normalised) hidden state at the probe position, trained together with a rank-r update of the
  input embedding (default r = 8; AdamW, lr 0.002 decaying linearly to 0, weight decay 0.01 as the
  paper's detector). It reads sequences, not cached activations, since the embedding update changes
  every layer's input.

Scores are class-balanced (balanced accuracy, AUROC) because "on a mistake" is rare, with bootstrap
intervals over test problems (never over positions of one sample).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from harness.interfaces import PlanError

ACTIVATION_PROBES = ("linear", "mlp", "mlp2")
PROBES = ACTIVATION_PROBES + ("vprobe",)


def balanced_accuracy(y: np.ndarray, pred: np.ndarray) -> float:
    accs = [float((pred[y == c] == c).mean()) for c in np.unique(y)]
    return float(np.mean(accs)) if accs else float("nan")


def auroc(y: np.ndarray, score: np.ndarray) -> float:
    from scipy.stats import rankdata

    pos, neg = y == 1, y == 0
    n1, n0 = int(pos.sum()), int(neg.sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = rankdata(score)
    return float((r[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _balanced_loss(y: np.ndarray, n_classes: int):
    import torch

    counts = torch.bincount(torch.from_numpy(y).long(), minlength=n_classes).float().clamp(min=1)
    return torch.nn.CrossEntropyLoss(weight=counts.sum() / (n_classes * counts))


def fit_probe(kind: str, x: np.ndarray, y: np.ndarray, n_classes: int, seed: int, steps: int = 300):
    """A linear probe (logistic regression, LBFGS, class-balanced), MazeGPT's MLP probe
    (`mlp`: d → 512 → classes) or its later deeper one (`mlp2`: d → 512 → 256 → classes), AdamW;
    returns a function x → class probabilities."""
    import torch

    torch.manual_seed(seed)
    xt = torch.from_numpy(x).float()
    mu, sd = xt.mean(0, keepdim=True), xt.std(0, keepdim=True) + 1e-6
    xt = (xt - mu) / sd
    yt = torch.from_numpy(y).long()
    loss_fn = _balanced_loss(y, n_classes)
    d = x.shape[1]
    if kind == "linear":
        net = torch.nn.Linear(d, n_classes)
        opt = torch.optim.LBFGS(net.parameters(), max_iter=steps, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = loss_fn(net(xt), yt) + 1e-4 * net.weight.pow(2).sum()
            loss.backward()
            return loss

        opt.step(closure)
    elif kind in ("mlp", "mlp2"):
        hidden = [512] if kind == "mlp" else [512, 256]  # MazeGPT's d→512→2 and its later d→512→256→2
        layers: list[torch.nn.Module] = []
        width = d
        for h in hidden:
            layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
            width = h
        net = torch.nn.Sequential(*layers, torch.nn.Linear(width, n_classes))
        opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-2)
        g = torch.Generator().manual_seed(seed)
        batch = min(256, len(xt))
        for _ in range(steps * 3):
            idx = torch.randint(0, len(xt), (batch,), generator=g)
            opt.zero_grad()
            loss_fn(net(xt[idx]), yt[idx]).backward()
            opt.step()
    else:
        raise PlanError(f"unknown activation probe {kind!r}; use {', '.join(ACTIVATION_PROBES)}")
    net.eval()

    def predict(xs: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return torch.softmax(net((torch.from_numpy(xs).float() - mu) / sd), -1).numpy()

    return predict


def _last_hidden(model: Any, idx: Any) -> Any:
    """The last block's output (`blocks.{L}.hook_resid_post` with the largest L)."""
    stream = model.residual_stream(idx)
    last = max((k for k in stream if k.endswith(".hook_resid_post")), key=lambda k: int(k.split(".")[1]))
    return stream[last]


def _pad(rows: Sequence[np.ndarray]) -> np.ndarray:
    idx = np.zeros((len(rows), max(len(r) for r in rows)), dtype=np.int64)
    for r, s in enumerate(rows):
        idx[r, : len(s)] = s  # right padding: harmless for a causal model
    return idx


def fit_vprobe(model: Any, seqs: Sequence[np.ndarray], positions: Sequence[np.ndarray], labels: Sequence[np.ndarray],
               n_classes: int, seed: int, device: Any, rank: int = 8, steps: int = 500, batch: int = 32,
               lr: float = 2e-3, weight_decay: float = 0.01) -> Callable[[Sequence[np.ndarray], Sequence[np.ndarray]], np.ndarray]:
    """Fit a V-probe on (sequence, positions, labels) examples; returns a function
    (sequences, positions) → class probabilities at those positions, stacked in order. The model's
    own weights are left as they were."""
    import torch
    import torch.nn.functional as F

    if not hasattr(model, "get_input_embeddings") or not hasattr(model, "residual_stream"):
        raise PlanError(f"{type(model).__name__} needs get_input_embeddings() and residual_stream(idx) for the V-probe")
    emb = model.get_input_embeddings()
    vocab, d = emb.weight.shape
    gen = torch.Generator().manual_seed(seed)
    A = torch.zeros(vocab, rank, device=device, requires_grad=True)
    B = (torch.randn(rank, d, generator=gen) / rank).to(device).requires_grad_(True)
    head = torch.nn.Linear(d, n_classes).to(device)
    torch.manual_seed(seed)
    head.reset_parameters()
    hook = emb.register_forward_hook(lambda mod, inp, out: out + (A[inp[0]] @ B).to(out.dtype))
    was = [p.requires_grad for p in model.parameters()]
    for p in model.parameters():
        p.requires_grad_(False)
    model.eval()
    y_all = np.concatenate(labels)
    loss_fn = _balanced_loss(y_all, n_classes).to(device)
    opt = torch.optim.AdamW([A, B, *head.parameters()], lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: max(0.0, 1.0 - k / max(1, steps)))

    def logits_at(rows: Sequence[np.ndarray], poss: Sequence[np.ndarray]):
        idx = torch.from_numpy(_pad(rows)).to(device)
        h = _last_hidden(model, idx).float()
        r = torch.cat([torch.full((len(p),), i, dtype=torch.long) for i, p in enumerate(poss)]).to(device)
        c = torch.from_numpy(np.concatenate(poss)).long().to(device)
        return head(F.layer_norm(h[r, c], (d,)))

    try:
        order = np.random.default_rng(seed)
        n = len(seqs)
        for _ in range(steps):
            pick = order.choice(n, size=min(batch, n), replace=False)
            lg = logits_at([seqs[i] for i in pick], [positions[i] for i in pick])
            y = torch.from_numpy(np.concatenate([labels[i] for i in pick])).long().to(device)
            opt.zero_grad()
            loss_fn(lg, y).backward()
            opt.step()
            sched.step()
    finally:
        hook.remove()
        for p, w in zip(model.parameters(), was):
            p.requires_grad_(w)

    def predict(rows: Sequence[np.ndarray], poss: Sequence[np.ndarray]) -> np.ndarray:
        out = []
        handle = emb.register_forward_hook(lambda mod, inp, o: o + (A[inp[0]] @ B).to(o.dtype))
        try:
            with torch.no_grad():
                for b0 in range(0, len(rows), 64):
                    out.append(torch.softmax(logits_at(rows[b0 : b0 + 64], poss[b0 : b0 + 64]), -1).cpu().numpy())
        finally:
            handle.remove()
        return np.concatenate(out) if out else np.zeros((0, n_classes))

    return predict


def score_probe(y: np.ndarray, probs: np.ndarray, groups: np.ndarray, seed: int, n_boot: int = 200) -> dict[str, Any]:
    """Balanced accuracy and AUROC (binary) on test positions, with bootstrap intervals over test
    problems (`groups`: the problem of each position)."""
    pred = probs.argmax(1)
    out = {"balanced_accuracy": (balanced_accuracy(y, pred), [])}
    if probs.shape[1] == 2:
        out["auroc"] = (auroc(y, probs[:, 1]), [])
    rng = np.random.default_rng(seed)
    uniq = np.unique(groups)
    members = {g: np.flatnonzero(groups == g) for g in uniq}
    for _ in range(n_boot):
        pick = np.concatenate([members[g] for g in rng.choice(uniq, len(uniq))])
        out["balanced_accuracy"][1].append(balanced_accuracy(y[pick], pred[pick]))
        if "auroc" in out:
            out["auroc"][1].append(auroc(y[pick], probs[pick, 1]))
    return _with_intervals(out)


def _with_intervals(out: dict[str, tuple[float, list[float]]]) -> dict[str, tuple[float, float, float]]:
    res = {}
    for k, (v, boots) in out.items():
        b = np.array([x for x in boots if not np.isnan(x)])
        res[k] = (v, float(np.quantile(b, 0.025)) if len(b) else float("nan"),
                  float(np.quantile(b, 0.975)) if len(b) else float("nan"))
    return res


def score_own_steps(own: Sequence[Any], probs: Sequence[np.ndarray], flag: int, seed: int,
                    n_boot: int = 200) -> dict[str, tuple[float, float, float]]:
    """How a probe reads the model's own completions (`OwnSteps` and the probe's probabilities at
    their positions): `regret_rate`, the share of first wrong steps it flags (Physics of LMs: ≈ 60%
    at its scale); `own_false_alarm`, the share of the model's right steps before that which it
    flags; `own_balanced_accuracy` over all those steps. Intervals: bootstrap over completions."""
    def metrics(ix: Sequence[int]) -> dict[str, float]:
        hits, wrongs, alarms, rights, ys, preds = 0, 0, 0, 0, [], []
        for i in ix:
            o, pred = own[i], probs[i].argmax(1)
            ys.append(o.labels)
            preds.append(pred)
            stop = len(o.labels) if o.first_wrong is None else o.first_wrong
            rights += stop
            alarms += int((pred[:stop] == flag).sum())
            if o.first_wrong is not None:
                wrongs += 1
                hits += int(pred[o.first_wrong] == flag)
        y, p = (np.concatenate(ys), np.concatenate(preds)) if ys else (np.zeros(0), np.zeros(0))
        return {"regret_rate": hits / wrongs if wrongs else float("nan"),
                "own_false_alarm": alarms / rights if rights else float("nan"),
                "own_balanced_accuracy": balanced_accuracy(y, p) if len(y) else float("nan")}

    base = metrics(range(len(own)))
    rng = np.random.default_rng(seed)
    boots: dict[str, list[float]] = {k: [] for k in base}
    for _ in range(n_boot if len(own) else 0):
        for k, v in metrics(rng.integers(0, len(own), len(own))).items():
            boots[k].append(v)
    return _with_intervals({k: (v, boots[k]) for k, v in base.items()})
