"""Evaluation toolbox for generated (synthetic) time series: chapter 4, used by chapters 6-8.

Every generator in chapters 6-8 (TimeVAE, NICE, RealNVP, RCGAN, TimeGAN) is scored with the
functions below on the same windows, so their names, arguments and outputs are a contract:

* windows and the split: :func:`make_windows`, :func:`split_index`, :func:`chronological_split`,
  :func:`blocked_split`;
* the shared data set: :func:`load_spx_pair` (daily S&P 500 log return and Garman-Klass log
  volatility, standardized with training statistics only);
* fidelity: :func:`discriminative_score` (a small GRU classifier real vs synthetic; AUC and
  accuracy on held-out windows, 0.5 is perfect);
* usefulness: :func:`predictive_score` (train on synthetic, test on real, "TSTR"; or train on
  real for the reference row);
* stylized facts of returns: :func:`stylized_facts`, :func:`window_acf`, :func:`abs_by_position`;
* bar and tail checks: :func:`ohlc_consistency`, :func:`var_exceedance`;
* classical baselines: :func:`simulate_garch_t` (GARCH(1,1) with Student-t shocks) and
  :func:`simulate_var1` (VAR(1), Gaussian or bootstrapped residuals);
* diversity: :func:`embedding_plot` (PCA fitted on real; t-SNE on real and synthetic together);
* one table row per generator: :func:`evaluate_generator`.

The discriminative and predictive scores follow Yoon, Jarrett and van der Schaar, "Time-series
Generative Adversarial Networks" (NeurIPS 2019), section 5; the stylized facts follow Cont,
"Empirical properties of asset returns: stylized facts and statistical issues", Quantitative
Finance 1 (2001). Arrays of windows are always shaped ``(n_windows, length, n_features)``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd

__all__ = [
    "SpxPair",
    "abs_by_position",
    "blocked_split",
    "chronological_split",
    "discriminative_score",
    "embedding_plot",
    "evaluate_generator",
    "load_spx_pair",
    "make_windows",
    "ohlc_consistency",
    "predictive_score",
    "simulate_garch_t",
    "simulate_var1",
    "split_index",
    "stylized_facts",
    "var_exceedance",
    "window_acf",
]

DEFAULT_TEST_FRACTION = 0.2


# --------------------------------------------------------------------------------------------
# input checks


def _as_2d(data: Any, name: str) -> np.ndarray:
    """A (T, d) float array from a 1-D/2-D array, Series or DataFrame; ValueError naming ``name``."""
    try:
        arr = np.asarray(data.to_numpy() if hasattr(data, "to_numpy") else data, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be numeric (a 1-D/2-D array or DataFrame): {err}") from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 1-D or 2-D (time, features); got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values; clean or drop them first")
    return arr


def _as_windows(windows: Any, name: str, min_count: int = 1) -> np.ndarray:
    """A (n, length, d) float array; a 2-D input is read as (n, length) with one feature."""
    try:
        arr = np.asarray(windows, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a numeric array of windows: {err}") from None
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3:
        raise ValueError(
            f"{name} must have shape (n_windows, length, n_features); got shape {arr.shape}"
        )
    if arr.shape[0] < min_count or arr.shape[1] == 0 or arr.shape[2] == 0:
        raise ValueError(
            f"{name} needs at least {min_count} non-empty window(s); got shape {arr.shape}"
        )
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def _check_fraction(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise ValueError(f"{name} must be a number strictly between 0 and 1; got {value!r}")
    return float(value)


def _as_returns(returns: Any, name: str, min_len: int = 3) -> np.ndarray:
    try:
        arr = np.asarray(returns, dtype=float).ravel()
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be numeric: {err}") from None
    if arr.size < min_len:
        raise ValueError(f"{name} needs at least {min_len} values; got {arr.size}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


# --------------------------------------------------------------------------------------------
# windows and the chronological split


def make_windows(data: Any, length: int, stride: int = 1) -> np.ndarray:
    """Cut a multivariate series into overlapping windows.

    Args:
        data: the series, shape ``(T, d)`` (array or DataFrame, rows in time order) or ``(T,)``
            (one feature). Units are kept as given.
        length: window length in observations (>= 1, <= T).
        stride: step between window starts (1: every start, i.e. overlapping windows).

    Returns:
        A float array of shape ``(n, length, d)`` with ``n = (T - length) // stride + 1``;
        window ``i`` holds rows ``i*stride .. i*stride + length - 1``.

    Raises:
        ValueError: non-numeric, non-finite or empty ``data``; ``length`` or ``stride`` not a
            positive integer; ``length`` longer than the series.
    """
    arr = _as_2d(data, "data")
    length = _check_int("length", length, 1)
    stride = _check_int("stride", stride, 1)
    if length > arr.shape[0]:
        raise ValueError(f"length={length} is longer than the series ({arr.shape[0]} rows)")
    view = np.lib.stride_tricks.sliding_window_view(arr, length, axis=0)  # (T-L+1, d, L)
    return np.ascontiguousarray(view[::stride].transpose(0, 2, 1))


def split_index(n_rows: int, test_fraction: float = DEFAULT_TEST_FRACTION) -> int:
    """First row of the test period: ``round(n_rows * (1 - test_fraction))``.

    :func:`chronological_split` and :func:`load_spx_pair` both use it, so the rows that set the
    standardization statistics are exactly the rows the training windows come from.

    Raises:
        ValueError: ``n_rows`` < 2 or ``test_fraction`` not in (0, 1).
    """
    n_rows = _check_int("n_rows", n_rows, 2)
    test_fraction = _check_fraction("test_fraction", test_fraction)
    return int(round(n_rows * (1.0 - test_fraction)))


def chronological_split(
    data: Any,
    length: int,
    test_fraction: float = DEFAULT_TEST_FRACTION,
    *,
    gap: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Split a series (or its stride-1 windows) into training and test windows by time.

    With ``s = split_index(T, test_fraction)``, training windows lie entirely in rows
    ``0 .. s-1`` and test windows entirely in rows ``s + gap .. T-1``. The default
    ``gap = length`` leaves one whole window length of unused rows between the last training
    window and the first test window, so no window straddles the split and no test window
    overlaps (or sits right next to) a training window.

    Args:
        data: the series ``(T, d)`` / ``(T,)`` (array or DataFrame in time order), or windows
            ``(n, length, d)`` made with :func:`make_windows` at stride 1 (then ``T = n +
            length - 1`` and window ``i`` starts at row ``i``).
        length: window length in observations; must equal the windows' length when windows
            are given.
        test_fraction: share of the rows in the test period (strictly between 0 and 1).
        gap: rows left out between the two periods (>= 0); None means ``length``.

    Returns:
        ``(train_windows, test_windows)``, each of shape ``(n, length, d)``.

    Raises:
        ValueError: bad ``data``/``length``/``test_fraction``/``gap``, windows whose length is
            not ``length``, or a period too short to hold one window.
    """
    length = _check_int("length", length, 1)
    gap = length if gap is None else _check_int("gap", gap, 0)
    raw = np.asarray(data.to_numpy() if hasattr(data, "to_numpy") else data)
    if raw.ndim == 3:
        windows = _as_windows(raw, "data")
        if windows.shape[1] != length:
            raise ValueError(
                f"length={length} does not match the windows' length {windows.shape[1]}"
            )
        n_rows = windows.shape[0] + length - 1
        s = split_index(n_rows, test_fraction)
        train_end = s - length + 1  # windows 0 .. train_end-1 end before row s
        test_start = s + gap  # window index = start row
        if train_end < 1 or test_start > windows.shape[0] - 1:
            raise ValueError(
                f"{n_rows} rows are too few for length={length}, gap={gap} and "
                f"test_fraction={test_fraction}: a period holds no window"
            )
        return windows[:train_end].copy(), windows[test_start:].copy()
    arr = _as_2d(data, "data")
    s = split_index(arr.shape[0], test_fraction)
    train_rows, test_rows = arr[:s], arr[s + gap :]
    if len(train_rows) < length or len(test_rows) < length:
        raise ValueError(
            f"{arr.shape[0]} rows are too few for length={length}, gap={gap} and "
            f"test_fraction={test_fraction}: the training period has {len(train_rows)} rows and "
            f"the test period {len(test_rows)}, each needs at least {length}"
        )
    return make_windows(train_rows, length), make_windows(test_rows, length)


# --------------------------------------------------------------------------------------------
# the shared data set


class SpxPair(NamedTuple):
    """What :func:`load_spx_pair` returns.

    Attributes:
        data: standardized series, DataFrame indexed by date, columns ``log_return`` and
            ``log_gk_vol`` (z-scores, training statistics).
        raw: the same before standardization (daily log return, log of the daily Garman-Klass
            volatility, both unitless: log of a price ratio / of a daily standard deviation).
        mean: training mean of each column of ``raw`` (Series).
        std: training standard deviation (ddof=1) of each column of ``raw`` (Series).
        split: first row of the test period (``split_index(len(data), test_fraction)``).
        split_date: date of that row.
        test_fraction: the share of rows in the test period.
    """

    data: pd.DataFrame
    raw: pd.DataFrame
    mean: pd.Series
    std: pd.Series
    split: int
    split_date: pd.Timestamp
    test_fraction: float


def load_spx_pair(test_fraction: float = DEFAULT_TEST_FRACTION) -> SpxPair:
    """The "SPX pair" shared by chapters 6-8: S&P 500 daily log return and Garman-Klass log vol.

    Source: ``arch.data.sp500`` through ``common.data.load_dataset("sp500_ohlc")`` (Yahoo
    Finance daily OHLC, 1999-01-04..2018-12-31, 5,031 bars; offline). For each day ``t``:

    * ``log_return = ln(Close_t / Close_{t-1})`` (the first day is dropped: 5,030 rows);
    * Garman-Klass daily variance (Garman and Klass, Journal of Business 53, 1980)
      ``v_t = 0.5 ln(High_t/Low_t)^2 - (2 ln 2 - 1) ln(Close_t/Open_t)^2`` (positive on every
      day of this data) and ``log_gk_vol = 0.5 ln(v_t)`` (log of a daily standard deviation).

    Both columns are z-scored with the mean and standard deviation of the TRAINING rows only,
    rows ``0 .. split-1`` with ``split = split_index(5030, test_fraction)``; with the default
    ``test_fraction=0.2`` that is 4,024 training rows (1999-01-05..2014-12-31) and the test
    period starts on 2015-01-02 (``split_date``; 1,006 rows). Pass the returned ``data`` and
    the same ``test_fraction`` to :func:`chronological_split` to get windows on exactly this
    split.

    Returns:
        A :class:`SpxPair` (data, raw, mean, std, split, split_date, test_fraction).

    Raises:
        ValueError: ``test_fraction`` not strictly between 0 and 1.
        common.data.DataError: if the packaged data cannot be loaded.
    """
    from common.data import load_dataset

    test_fraction = _check_fraction("test_fraction", test_fraction)
    ohlc = load_dataset("sp500_ohlc")
    o, h, lo, c = (np.log(ohlc[col].astype(float)) for col in ("Open", "High", "Low", "Close"))
    gk_var = 0.5 * (h - lo) ** 2 - (2 * np.log(2) - 1) * (c - o) ** 2
    if (gk_var <= 0).any():  # not the case for the packaged data; guard against edited files
        raise ValueError("Garman-Klass variance is not positive on some days; check the bars")
    raw = pd.DataFrame({"log_return": c.diff(), "log_gk_vol": 0.5 * np.log(gk_var)}).iloc[1:]
    split = split_index(len(raw), test_fraction)
    mean = raw.iloc[:split].mean()
    std = raw.iloc[:split].std(ddof=1)
    data = (raw - mean) / std
    return SpxPair(data, raw, mean, std, split, raw.index[split], test_fraction)


# --------------------------------------------------------------------------------------------
# discriminative and predictive scores


def _torch_setup(seed: int):
    from common.config import seed_everything

    seed = _check_int("seed", seed, 0)
    seed_everything(seed)
    import torch

    return torch, torch.Generator().manual_seed(seed)


class _GRUHead:  # built lazily so that importing this module does not import torch
    @staticmethod
    def make(n_features: int, hidden: int, n_out: int):
        import torch

        class GRUHead(torch.nn.Module):
            """GRU over the window; a linear layer reads the last hidden state."""

            def __init__(self) -> None:
                super().__init__()
                self.gru = torch.nn.GRU(n_features, hidden, batch_first=True)
                self.head = torch.nn.Linear(hidden, n_out)

            def forward(self, x):
                out, _ = self.gru(x)
                return self.head(out[:, -1])

        return GRUHead()


def discriminative_score(
    real_train: Any,
    synth_train: Any,
    real_test: Any,
    synth_test: Any,
    *,
    seed: int = 0,
    epochs: int = 10,
    hidden: int = 16,
    batch_size: int = 64,
    lr: float = 1e-2,
    device: str | None = "cpu",
) -> dict[str, float]:
    """How well a small GRU classifier tells real windows from synthetic ones (0.5 = perfect).

    A one-layer GRU (``hidden`` units) reads each window and a linear layer on its last
    hidden state gives a logit; it is trained with binary cross-entropy (Adam, ``lr``) through
    :func:`common.train.fit` on ``real_train`` (label 1) vs ``synth_train`` (label 0) and scored
    on the held-out ``real_test`` vs ``synth_test``. This is the "discriminative score" of
    TimeGAN (Yoon et al. 2019), reported here as AUC and accuracy rather than |accuracy - 0.5|.

    Args:
        real_train, synth_train, real_test, synth_test: windows ``(n, length, d)`` (a 2-D array
            is read as ``(n, length)`` with one feature), all with the same length and number
            of features; the real and synthetic sets may differ in size. Scale them the same
            way (e.g. z-scores with training statistics).
        seed: seeds NumPy/PyTorch (:func:`common.config.seed_everything`) and the batch
            shuffling: the same seed on the same device gives the same scores.
        epochs, hidden, batch_size, lr: classifier size and training budget.
        device: torch device (default CPU: small recurrent nets are fastest there and CPU
            results are reproducible); None lets :func:`common.config.get_device` choose.

    Returns:
        ``{"auc": ..., "accuracy": ..., "n_test": ...}``: ``auc`` is
        ``sklearn.metrics.roc_auc_score`` of the predicted probability "real" on the test
        windows (0.5: indistinguishable, 1.0: perfectly separated; below 0.5 means the
        classifier learned a pattern that reversed out of sample); ``accuracy`` uses the
        threshold 0.5 (with unequal class sizes a constant guess already scores the majority
        share, so prefer the AUC); ``n_test`` is the number of test windows.

    Raises:
        ValueError: malformed windows, mismatched lengths/feature counts, bad settings.
    """
    sets = {
        "real_train": _as_windows(real_train, "real_train"),
        "synth_train": _as_windows(synth_train, "synth_train"),
        "real_test": _as_windows(real_test, "real_test"),
        "synth_test": _as_windows(synth_test, "synth_test"),
    }
    shape = sets["real_train"].shape[1:]
    for name, arr in sets.items():
        if arr.shape[1:] != shape:
            raise ValueError(
                f"{name} windows have (length, features) {arr.shape[1:]}, real_train has {shape}"
            )
    epochs = _check_int("epochs", epochs, 1)
    hidden = _check_int("hidden", hidden, 1)
    batch_size = _check_int("batch_size", batch_size, 1)
    torch, gen = _torch_setup(seed)
    from sklearn.metrics import roc_auc_score
    from torch.utils.data import DataLoader, TensorDataset

    from common.train import fit

    x_train = np.concatenate([sets["real_train"], sets["synth_train"]])
    y_train = np.r_[np.ones(len(sets["real_train"])), np.zeros(len(sets["synth_train"]))]
    x_test = np.concatenate([sets["real_test"], sets["synth_test"]])
    y_test = np.r_[np.ones(len(sets["real_test"])), np.zeros(len(sets["synth_test"]))]

    model = _GRUHead.make(shape[1], hidden, 1)
    data = TensorDataset(
        torch.tensor(x_train, dtype=torch.float32), torch.tensor(y_train, dtype=torch.float32)
    )
    loader = DataLoader(data, batch_size=batch_size, shuffle=True, generator=gen)
    bce = torch.nn.BCEWithLogitsLoss()

    def loss_fn(m, batch):
        x, y = batch
        return bce(m(x).squeeze(-1), y)

    fit(model, loss_fn, loader, epochs=epochs, lr=lr, device=device, amp=False, progress=False)
    dev = next(model.parameters()).device
    with torch.no_grad():
        logits = model(torch.tensor(x_test, dtype=torch.float32, device=dev)).squeeze(-1)
    prob = torch.sigmoid(logits).cpu().numpy()
    return {
        "auc": float(roc_auc_score(y_test, prob)),
        "accuracy": float(np.mean((prob > 0.5) == (y_test == 1))),
        "n_test": int(len(y_test)),
    }


def _xy(windows: np.ndarray, target: int | None) -> tuple[np.ndarray, np.ndarray]:
    x = windows[:, :-1, :]
    y = windows[:, -1, :] if target is None else windows[:, -1, target : target + 1]
    return x, y


def predictive_score(
    train_windows: Any,
    test_windows: Any,
    *,
    model: str = "ridge",
    target: int | None = None,
    alpha: float = 1.0,
    seed: int = 0,
    epochs: int = 20,
    hidden: int = 16,
    batch_size: int = 64,
    lr: float = 1e-2,
    device: str | None = "cpu",
) -> dict[str, float]:
    """Next-step prediction score: fit on ``train_windows``, report the error on ``test_windows``.

    For every window the regressor predicts its LAST step from the ``length - 1`` steps before
    it. Train on synthetic windows and test on real ones for TSTR ("train on synthetic, test on
    real", Yoon et al. 2019); train on real training windows for the TRTR reference row. A
    useful generator gives a TSTR error close to TRTR.

    Args:
        train_windows, test_windows: windows ``(n, length, d)``, ``length >= 2``, same length
            and number of features (2-D is read as one feature).
        model: ``"ridge"`` (default: ``sklearn.linear_model.Ridge`` with ``alpha`` on the
            flattened ``(length-1)*d`` previous values, deterministic and fast) or ``"gru"``
            (a one-layer GRU with ``hidden`` units and a linear head, MSE loss, trained with
            :func:`common.train.fit` for ``epochs``; seeded by ``seed``).
        target: predict only this feature (column index); None predicts all ``d`` features.
        alpha: ridge penalty (>= 0).
        seed, epochs, hidden, batch_size, lr, device: GRU settings (ignored by ridge).

    Returns:
        ``{"mae": ..., "mse": ..., "n_test": ...}`` on the test windows, averaged over windows
        and predicted features, in the (squared) units of the windows.

    Raises:
        ValueError: malformed windows, length < 2, mismatched shapes, unknown ``model``, a
            ``target`` out of range, bad settings.
    """
    train = _as_windows(train_windows, "train_windows")
    test = _as_windows(test_windows, "test_windows")
    if train.shape[1] < 2:
        raise ValueError(f"train_windows need length >= 2 to predict a next step; {train.shape}")
    if test.shape[1:] != train.shape[1:]:
        raise ValueError(
            f"test_windows have (length, features) {test.shape[1:]}, "
            f"train_windows have {train.shape[1:]}"
        )
    if target is not None and not (
        isinstance(target, (int, np.integer)) and 0 <= target < train.shape[2]
    ):
        raise ValueError(f"target must be None or a feature index < {train.shape[2]}; got {target!r}")
    if model not in ("ridge", "gru"):
        raise ValueError(f"model must be 'ridge' or 'gru'; got {model!r}")
    x_tr, y_tr = _xy(train, target)
    x_te, y_te = _xy(test, target)
    if model == "ridge":
        if not (isinstance(alpha, (int, float)) and alpha >= 0):
            raise ValueError(f"alpha must be a number >= 0; got {alpha!r}")
        from sklearn.linear_model import Ridge

        reg = Ridge(alpha=float(alpha)).fit(x_tr.reshape(len(x_tr), -1), y_tr)
        pred = np.asarray(reg.predict(x_te.reshape(len(x_te), -1))).reshape(y_te.shape)
    else:
        epochs = _check_int("epochs", epochs, 1)
        hidden = _check_int("hidden", hidden, 1)
        batch_size = _check_int("batch_size", batch_size, 1)
        torch, gen = _torch_setup(seed)
        from torch.utils.data import DataLoader, TensorDataset

        from common.train import fit, supervised

        net = _GRUHead.make(train.shape[2], hidden, y_tr.shape[1])
        data = TensorDataset(
            torch.tensor(x_tr, dtype=torch.float32), torch.tensor(y_tr, dtype=torch.float32)
        )
        loader = DataLoader(data, batch_size=batch_size, shuffle=True, generator=gen)
        fit(net, supervised(torch.nn.MSELoss()), loader, epochs=epochs, lr=lr, device=device,
            amp=False, progress=False)
        dev = next(net.parameters()).device
        with torch.no_grad():
            pred = net(torch.tensor(x_te, dtype=torch.float32, device=dev)).cpu().numpy()
    err = pred - y_te
    return {
        "mae": float(np.mean(np.abs(err))),
        "mse": float(np.mean(err**2)),
        "n_test": int(len(y_te)),
    }


# --------------------------------------------------------------------------------------------
# stylized facts


def stylized_facts(returns: Any, nlags: int = 50, leverage_lags: int = 10) -> dict[str, Any]:
    """Stylized facts of one return series (Cont 2001): tails, autocorrelations, leverage.

    Args:
        returns: a 1-D series of returns in time order (any units; windows must be flattened
            only if they are consecutive; for independent synthetic windows use
            :func:`window_acf`).
        nlags: largest lag of the autocorrelation functions (>= 1, < len(returns)).
        leverage_lags: largest lag ``k`` of the leverage correlation (>= 1, < len(returns)).

    Returns:
        A dict with ``kurtosis`` (EXCESS kurtosis, Fisher, 0 for a normal law; biased
        estimator ``scipy.stats.kurtosis``), ``skewness``, and pandas Series indexed by lag
        ``1..nlags``: ``acf_r`` (ACF of r: near 0 for liquid assets), ``acf_abs`` (ACF of
        \\|r\\|) and ``acf_sq`` (ACF of r^2; both positive and slowly decaying under volatility
        clustering), all from ``statsmodels.tsa.stattools.acf`` (``fft=True``); ``leverage``
        indexed ``1..leverage_lags``: ``corr(r_t, |r_{t+k}|)`` (Pearson, negative for equity
        indices: falls are followed by higher volatility).

    Raises:
        ValueError: non-numeric/non-finite returns, too few values, bad lags, constant series.
    """
    from scipy import stats
    from statsmodels.tsa.stattools import acf

    r = _as_returns(returns, "returns")
    nlags = _check_int("nlags", nlags, 1)
    leverage_lags = _check_int("leverage_lags", leverage_lags, 1)
    if nlags >= r.size or leverage_lags >= r.size - 1:
        raise ValueError(
            f"nlags={nlags} and leverage_lags={leverage_lags} must be smaller than the number "
            f"of returns minus one ({r.size})"
        )
    if np.std(r) == 0:
        raise ValueError("returns are constant: autocorrelations are undefined")
    lags = pd.RangeIndex(1, nlags + 1, name="lag")

    def acf_series(x: np.ndarray) -> pd.Series:
        if np.std(x) == 0:
            return pd.Series(np.nan, index=lags)
        return pd.Series(acf(x, nlags=nlags, fft=True)[1:], index=lags)

    a = np.abs(r)
    with np.errstate(invalid="ignore", divide="ignore"):  # constant |r|: NaN, not a warning
        lev = [np.corrcoef(r[:-k], a[k:])[0, 1] for k in range(1, leverage_lags + 1)]
    return {
        "kurtosis": float(stats.kurtosis(r)),
        "skewness": float(stats.skew(r)),
        "acf_r": acf_series(r),
        "acf_abs": acf_series(a),
        "acf_sq": acf_series(r**2),
        "leverage": pd.Series(lev, index=pd.RangeIndex(1, leverage_lags + 1, name="lag")),
    }


def window_acf(windows: Any, lag: int = 1, *, feature: int = 0, transform: str = "abs") -> float:
    """Pooled within-window autocorrelation at ``lag`` of one feature of a set of windows.

    Synthetic windows are independent draws, so concatenating them would mix unrelated
    neighbours at every boundary. This estimator stays inside windows: with ``x`` the
    transformed values (``"abs"``: \\|r\\|, ``"square"``: r^2, ``"none"``: r), ``m`` and ``v``
    their mean and variance over all windows, it returns
    ``mean over windows and t of (x_t - m)(x_{t+lag} - m) / v``. Compute it the same way on
    real and synthetic windows to compare them.

    Args:
        windows: ``(n, length, d)`` (2-D: one feature); ``length > lag``.
        lag: >= 1.
        feature: column index of the return series.
        transform: ``"abs"``, ``"square"`` or ``"none"``.

    Raises:
        ValueError: malformed windows, bad ``lag``/``feature``/``transform``, constant values.
    """
    w = _as_windows(windows, "windows")
    lag = _check_int("lag", lag, 1)
    if lag >= w.shape[1]:
        raise ValueError(f"lag={lag} must be smaller than the window length {w.shape[1]}")
    if not (isinstance(feature, (int, np.integer)) and 0 <= feature < w.shape[2]):
        raise ValueError(f"feature must be an index < {w.shape[2]}; got {feature!r}")
    funcs = {"abs": np.abs, "square": np.square, "none": lambda v: v}
    if transform not in funcs:
        raise ValueError(f"transform must be one of {sorted(funcs)}; got {transform!r}")
    x = funcs[transform](w[:, :, feature])
    var = x.var()
    if var == 0:
        raise ValueError("windows are constant: the autocorrelation is undefined")
    d = x - x.mean()
    return float(np.mean(d[:, :-lag] * d[:, lag:]) / var)


def abs_by_position(windows: Any, *, feature: int = 0) -> pd.Series:
    """Mean \\|r\\| at each position inside the windows (index 0..length-1).

    A generator that forgets volatility clustering (its state resets at each window start)
    shows \\|r\\| drifting along the window; real windows give a flat profile.

    Raises:
        ValueError: malformed windows or a bad ``feature``.
    """
    w = _as_windows(windows, "windows")
    if not (isinstance(feature, (int, np.integer)) and 0 <= feature < w.shape[2]):
        raise ValueError(f"feature must be an index < {w.shape[2]}; got {feature!r}")
    return pd.Series(
        np.abs(w[:, :, feature]).mean(axis=0),
        index=pd.RangeIndex(w.shape[1], name="position"),
        name="mean_abs",
    )


# --------------------------------------------------------------------------------------------
# OHLC and tails


def ohlc_consistency(open: Any, high: Any, low: Any, close: Any) -> pd.Series:
    """Count internally inconsistent OHLC bars, rule by rule.

    A bar is consistent when ``low <= min(open, close)``, ``max(open, close) <= high`` and
    ``low <= high``. Generators that model each price independently (e.g. a VAR(1) on log
    OHLC) break these rules often; comparisons are exact (no tolerance).

    Args:
        open, high, low, close: arrays (or Series) of the same shape, any shape (they are
            flattened), prices or log prices (the rules hold for both).

    Returns:
        A Series with ``n_bars``, the counts ``high_below_max_oc`` (high < max(open, close)),
        ``low_above_min_oc`` (low > min(open, close)), ``high_below_low`` (high < low),
        ``inconsistent`` (bars breaking at least one rule; a bar can break several, so the
        rule counts may add up to more) and ``share_inconsistent`` (inconsistent / n_bars).

    Raises:
        ValueError: an input that is empty, non-numeric or non-finite, or shapes that differ
            (the message names the argument).
    """
    arrays = {}
    for name, value in (("open", open), ("high", high), ("low", low), ("close", close)):
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{name} must be numeric: {err}") from None
        if arr.size == 0:
            raise ValueError(f"{name} is empty")
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} contains NaN or infinite values")
        arrays[name] = arr
    for name, arr in arrays.items():
        if arr.shape != arrays["open"].shape:
            raise ValueError(f"{name} has shape {arr.shape}, open has {arrays['open'].shape}")
    o, h, lo, c = (arrays[k].ravel() for k in ("open", "high", "low", "close"))
    rule_high = h < np.maximum(o, c)
    rule_low = lo > np.minimum(o, c)
    rule_cross = h < lo
    bad = rule_high | rule_low | rule_cross
    return pd.Series(
        {
            "n_bars": int(o.size),
            "high_below_max_oc": int(rule_high.sum()),
            "low_above_min_oc": int(rule_low.sum()),
            "high_below_low": int(rule_cross.sum()),
            "inconsistent": int(bad.sum()),
            "share_inconsistent": float(bad.mean()),
        },
        dtype=object,
    )


def var_exceedance(real_returns: Any, synth_returns: Any, level: Any = (0.01, 0.05)) -> pd.DataFrame:
    """Backtest the synthetic data's Value at Risk on real returns.

    For each tail probability ``level`` the synthetic VaR is the empirical ``level``-quantile
    of ``synth_returns`` (``numpy.quantile``, linear interpolation; a return, so negative for
    small levels). The exceedance rate is the share of ``real_returns`` strictly below it: a
    generator with realistic tails gives a rate close to ``level``; too thin synthetic tails
    give a rate above it. The p-value is the two-sided exact binomial test of
    "rate = level" (``scipy.stats.binomtest``; Kupiec's unconditional-coverage idea).

    Args:
        real_returns, synth_returns: 1-D returns in the same units (flattened if not 1-D).
        level: one tail probability or a sequence of them, each in (0, 1).

    Returns:
        A DataFrame indexed by ``level`` with columns ``var_synth``, ``var_real`` (the same
        quantile of the real returns), ``exceedances`` (count), ``n_real``, ``rate``,
        ``rate_over_level`` and ``p_value``.

    Raises:
        ValueError: too few or non-finite returns, a level outside (0, 1).
    """
    from scipy.stats import binomtest

    real = _as_returns(real_returns, "real_returns", min_len=2)
    synth = _as_returns(synth_returns, "synth_returns", min_len=2)
    levels = [level] if np.isscalar(level) else list(level)
    if not levels:
        raise ValueError("level must be a number or a non-empty sequence of numbers in (0, 1)")
    rows = []
    for lv in levels:
        lv = _check_fraction("level", lv)
        var_s = float(np.quantile(synth, lv))
        hits = int(np.sum(real < var_s))
        rows.append(
            {
                "level": lv,
                "var_synth": var_s,
                "var_real": float(np.quantile(real, lv)),
                "exceedances": hits,
                "n_real": int(real.size),
                "rate": hits / real.size,
                "rate_over_level": hits / real.size / lv,
                "p_value": float(binomtest(hits, real.size, lv).pvalue),
            }
        )
    return pd.DataFrame(rows).set_index("level")


# --------------------------------------------------------------------------------------------
# embedding plot and the one-row summary


def embedding_plot(
    real: Any,
    synth: Any,
    method: str = "pca",
    *,
    max_points: int = 1000,
    seed: int = 0,
    ax: Any = None,
    title: str = "",
):
    """Scatter of real vs synthetic windows in two dimensions (a diversity check).

    Windows are flattened to vectors of ``length * d`` values; at most ``max_points`` of each
    set are drawn (a seeded random subset). ``"pca"``: ``sklearn.decomposition.PCA`` is fitted
    on the REAL windows only and both sets are projected with it, so the axes are the real
    data's main directions. ``"tsne"``: t-SNE has no transform for new points, so it is
    necessarily fitted on real and synthetic windows together (``sklearn.manifold.TSNE``,
    perplexity 30 or less for small sets, ``random_state=seed``). Synthetic points covering the
    real cloud indicates diversity; a tight synthetic clump inside it suggests mode collapse.

    Args:
        real, synth: windows ``(n, length, d)`` (2-D: one feature) with the same shape per window.
        method: ``"pca"`` or ``"tsne"``.
        max_points: largest number of windows drawn per set (>= 2).
        seed: seed of the subsampling and of t-SNE.
        ax: a matplotlib Axes to draw into; None creates a new figure.
        title: the title; empty gives a default naming the method.

    Returns:
        The matplotlib Figure.

    Raises:
        ValueError: malformed windows, mismatched shapes, unknown ``method``, bad ``max_points``.
    """
    r = _as_windows(real, "real", min_count=2)
    s = _as_windows(synth, "synth", min_count=2)
    if s.shape[1:] != r.shape[1:]:
        raise ValueError(f"synth windows have shape {s.shape[1:]}, real windows {r.shape[1:]}")
    if method not in ("pca", "tsne"):
        raise ValueError(f"method must be 'pca' or 'tsne'; got {method!r}")
    max_points = _check_int("max_points", max_points, 2)
    seed = _check_int("seed", seed, 0)
    rng = np.random.default_rng(seed)

    def subset(w: np.ndarray) -> np.ndarray:
        flat = w.reshape(len(w), -1)
        if len(flat) > max_points:
            flat = flat[np.sort(rng.choice(len(flat), max_points, replace=False))]
        return flat

    xr, xs = subset(r), subset(s)
    if method == "pca":
        from sklearn.decomposition import PCA

        pca = PCA(n_components=2).fit(xr)
        er, es = pca.transform(xr), pca.transform(xs)
        ratio = pca.explained_variance_ratio_
        labels = (f"PC1 of real ({ratio[0]:.0%} of variance)", f"PC2 of real ({ratio[1]:.0%})")
    else:
        from sklearn.manifold import TSNE

        both = np.concatenate([xr, xs])
        perplexity = float(min(30, (len(both) - 1) / 3))
        emb = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed)
        e = emb.fit_transform(both)
        er, es = e[: len(xr)], e[len(xr) :]
        labels = ("t-SNE 1 (fitted on real + synthetic)", "t-SNE 2")
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 5))
    else:
        fig = ax.figure
    ax.scatter(er[:, 0], er[:, 1], s=6, alpha=0.5, label=f"real ({len(er)} windows)")
    ax.scatter(es[:, 0], es[:, 1], s=6, alpha=0.5, label=f"synthetic ({len(es)} windows)")
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    ax.set_title(title or f"{method.upper()} of real vs synthetic windows")
    ax.legend(loc="best")
    return fig


def blocked_split(
    windows: Any, test_fraction: float = 0.25, *, seed: int = 0, block: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Split stride-1 windows of ONE period into two disjoint sets that span the same dates.

    The windows (window ``i`` starts at row ``i``, as from :func:`make_windows` or
    :func:`chronological_split`) are cut into consecutive blocks of ``block`` windows
    (default ``5 * length``); a seeded random share ``test_fraction`` of the blocks goes to the
    second set. In every block only the first ``block - 2*length + 1`` windows are kept, so the
    last window of a block ends ``length`` rows before the next block starts: no window of one
    set overlaps (or touches) a window of the other. Both sets sample the whole period, so a
    classifier trained on one and scored on the other is not confused by a change of regime
    between periods.

    Args:
        windows: stride-1 windows ``(n, length, d)`` (2-D: one feature).
        test_fraction: share of the blocks in the second set, in (0, 1).
        seed: seed of the block assignment.
        block: windows per block (>= 2*length); None: ``5 * length``.

    Returns:
        ``(first, second)`` windows, in time order within each set.

    Raises:
        ValueError: malformed windows, bad settings, or so few blocks that a set is empty.
    """
    w = _as_windows(windows, "windows")
    length = w.shape[1]
    test_fraction = _check_fraction("test_fraction", test_fraction)
    seed = _check_int("seed", seed, 0)
    block = 5 * length if block is None else _check_int("block", block, 2 * length)
    n_blocks = -(-len(w) // block)
    n_test = int(round(n_blocks * test_fraction))
    if n_test < 1 or n_test >= n_blocks:
        raise ValueError(
            f"{len(w)} windows make {n_blocks} block(s) of {block}: too few to put "
            f"test_fraction={test_fraction} of them in the second set; pass more windows"
        )
    is_test = np.zeros(n_blocks, dtype=bool)
    is_test[np.random.default_rng(seed).choice(n_blocks, n_test, replace=False)] = True
    idx = np.arange(len(w))
    keep = (idx % block) <= block - 2 * length
    in_test = is_test[idx // block]
    return w[keep & ~in_test].copy(), w[keep & in_test].copy()


def evaluate_generator(
    name: str,
    real_train: Any,
    real_test: Any,
    synth: Any,
    *,
    synth_test: Any = None,
    disc_real: str = "train",
    return_feature: int = 0,
    seed: int = 0,
    epochs: int = 10,
    predictor: str = "ridge",
    device: str | None = "cpu",
) -> pd.DataFrame:
    """Score one generator; returns ONE row so chapters 6-8 can ``pd.concat`` their rows.

    Fidelity (:func:`discriminative_score`): the synthetic windows are split at random
    (seeded) into two halves, one to train the classifier and one to score it (or
    ``synth`` / ``synth_test`` when ``synth_test`` is given). The real side depends on
    ``disc_real``:

    * ``"train"`` (default): ``real_train`` is split with :func:`blocked_split` (25% of the
      blocks held out, no overlap), so the held-out real windows come from the same period the
      generator learned. This is the fidelity question of TimeGAN (Yoon et al. 2019).
    * ``"test"``: train on ``real_train``, score on ``real_test`` (the later period). This
      mixes fidelity with the change of regime between periods: on the SPX pair, windows of
      the training period vs the test period are themselves told apart (AUC about 0.67 with
      the default classifier), and a near-copy of the training windows can even score below
      0.5; read it as an out-of-sample check, not as fidelity.

    An AUC clearly BELOW 0.5 with ``"train"`` means synthetic windows that copy real training
    windows (memorization, or noisy copies): the classifier learned those real windows as
    "real" and then scores their copies in the synthetic test half as real too. To score
    noisy copies of real data, call :func:`discriminative_score` with paired copies instead
    (``real_train`` vs its copy, ``real_test`` vs its copy).

    Usefulness (:func:`predictive_score`): train on all synthetic windows, test on
    ``real_test`` (TSTR); train on ``real_train``, test on ``real_test`` (TRTR, the
    reference); both predict all features of the last step with ``predictor``. Stylized
    facts of feature ``return_feature``: excess kurtosis of all its values and the lag-1
    within-window ACF of \\|r\\| (:func:`window_acf`), for ``real_train`` and the synthetic
    windows (the period the generator learned).

    Args:
        name: the generator's label (the row index).
        real_train, real_test: stride-1 real windows from :func:`chronological_split`.
        synth: synthetic windows ``(n, length, d)`` (at least 4 without ``synth_test``).
        synth_test: optional separate synthetic windows for the classifier's test set.
        disc_real: ``"train"`` or ``"test"`` (see above).
        return_feature: column index of the returns among the features.
        seed, epochs, device: passed to the scores (epochs: discriminator epochs).
        predictor: ``"ridge"`` or ``"gru"`` (see :func:`predictive_score`).

    Returns:
        A one-row DataFrame indexed by ``name`` (index name ``generator``) with columns
        ``disc_auc``, ``disc_accuracy``, ``tstr_mse``, ``trtr_mse``, ``tstr_mae``,
        ``trtr_mae``, ``kurtosis_real``, ``kurtosis_synth``, ``acf_abs1_real``,
        ``acf_abs1_synth``.

    Raises:
        ValueError: as the underlying scores; an empty ``name``; a bad ``disc_real``; fewer
            than 4 synthetic windows without ``synth_test``.
    """
    from scipy import stats

    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"name must be a non-empty string; got {name!r}")
    if disc_real not in ("train", "test"):
        raise ValueError(f"disc_real must be 'train' or 'test'; got {disc_real!r}")
    real_tr = _as_windows(real_train, "real_train")
    real_te = _as_windows(real_test, "real_test")
    syn = _as_windows(synth, "synth", min_count=2 if synth_test is not None else 4)
    seed = _check_int("seed", seed, 0)
    if synth_test is None:
        order = np.random.default_rng(seed).permutation(len(syn))
        half = len(syn) // 2
        syn_tr, syn_te = syn[order[:half]], syn[order[half:]]
    else:
        syn_tr, syn_te = syn, _as_windows(synth_test, "synth_test")
    if disc_real == "train":
        disc_tr, disc_te = blocked_split(real_tr, seed=seed)
    else:
        disc_tr, disc_te = real_tr, real_te
    disc = discriminative_score(
        disc_tr, syn_tr, disc_te, syn_te, seed=seed, epochs=epochs, device=device
    )
    kw = {"model": predictor, "seed": seed, "device": device}
    tstr = predictive_score(syn, real_te, **kw)
    trtr = predictive_score(real_tr, real_te, **kw)
    f = return_feature
    row = {
        "disc_auc": disc["auc"],
        "disc_accuracy": disc["accuracy"],
        "tstr_mse": tstr["mse"],
        "trtr_mse": trtr["mse"],
        "tstr_mae": tstr["mae"],
        "trtr_mae": trtr["mae"],
        "kurtosis_real": float(stats.kurtosis(real_tr[:, :, f].ravel())),
        "kurtosis_synth": float(stats.kurtosis(syn[:, :, f].ravel())),
        "acf_abs1_real": window_acf(real_tr, 1, feature=f),
        "acf_abs1_synth": window_acf(syn, 1, feature=f),
    }
    return pd.DataFrame([row], index=pd.Index([name], name="generator"))


# --------------------------------------------------------------------------------------------
# classical baselines (chapter 4; the reference rows of the chapter 6-8 generator table)


def simulate_garch_t(
    mu: float,
    omega: float,
    alpha: float,
    beta: float,
    nu: float,
    n_paths: int,
    steps: int,
    *,
    rng: Any = None,
    burn: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate GARCH(1,1) paths with standardized Student-t shocks.

    ``r_t = mu + eps_t``, ``eps_t = sigma_t z_t`` with ``z_t`` Student-t with ``nu`` degrees of
    freedom scaled to unit variance (``t * sqrt((nu - 2) / nu)``), and
    ``sigma2_{t+1} = omega + alpha eps_t^2 + beta sigma2_t``; every path starts at the long-run
    variance ``omega / (1 - alpha - beta)``. The parameter names are those of
    ``arch.arch_model(..., vol="GARCH", dist="t")`` (``mu``, ``omega``, ``alpha[1]``,
    ``beta[1]``, ``nu``) and the units are those of the fitted returns (e.g. percent).

    Args:
        mu, omega, alpha, beta, nu: the parameters; ``omega > 0``, ``alpha, beta >= 0``,
            ``alpha + beta < 1`` (covariance stationary), ``nu > 2``.
        n_paths, steps: paths and kept steps per path (>= 1).
        rng: a ``numpy.random.Generator`` or a seed (None: fresh entropy).
        burn: steps simulated and dropped before the kept ones (so that windows do not all
            start at the long-run variance).

    Returns:
        ``(returns, sigma)``, both ``(n_paths, steps)``: the simulated returns and the
        conditional standard deviation ``sigma_t`` each return was drawn with.

    Raises:
        ValueError: parameters outside the ranges above (the message names them).
    """
    values = {"mu": mu, "omega": omega, "alpha": alpha, "beta": beta, "nu": nu}
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not np.isfinite(value):
            raise ValueError(f"{name} must be a finite number; got {value!r}")
    if omega <= 0 or alpha < 0 or beta < 0:
        raise ValueError(f"need omega > 0, alpha >= 0, beta >= 0; got omega={omega}, alpha={alpha}, beta={beta}")
    if alpha + beta >= 1:
        raise ValueError(f"alpha + beta must be < 1 (stationary variance); got {alpha + beta}")
    if nu <= 2:
        raise ValueError(f"nu must be > 2 (finite variance); got {nu}")
    n_paths = _check_int("n_paths", n_paths, 1)
    steps = _check_int("steps", steps, 1)
    burn = _check_int("burn", burn, 0)
    rng = np.random.default_rng(rng)
    sigma2 = np.full(n_paths, omega / (1 - alpha - beta))
    returns = np.empty((n_paths, burn + steps))
    sigma = np.empty((n_paths, burn + steps))
    scale = np.sqrt((nu - 2) / nu)
    for t in range(burn + steps):
        sigma[:, t] = np.sqrt(sigma2)
        eps = sigma[:, t] * rng.standard_t(nu, n_paths) * scale
        returns[:, t] = mu + eps
        sigma2 = omega + alpha * eps**2 + beta * sigma2
    return returns[:, burn:], sigma[:, burn:]


def simulate_var1(
    intercept: Any,
    coef: Any,
    start: Any,
    steps: int,
    *,
    chol: Any = None,
    residuals: Any = None,
    rng: Any = None,
    burn: int = 0,
) -> np.ndarray:
    """Simulate a VAR(1) ``x_t = c + A x_{t-1} + e_t`` from given start vectors.

    The shocks ``e_t`` are Gaussian ``chol @ N(0, I)`` (pass ``chol``, the Cholesky factor of
    the residual covariance, e.g. ``numpy.linalg.cholesky(statsmodels_fit.sigma_u)``) or drawn
    with replacement from the rows of ``residuals`` (a residual bootstrap: keeps fat tails and
    the contemporaneous dependence of the fitted residuals, not their time dependence). Pass
    exactly one of the two.

    Args:
        intercept: ``c``, shape ``(d,)``.
        coef: ``A``, shape ``(d, d)`` (statsmodels: ``fit.coefs[0]``).
        start: ``x_0``, shape ``(d,)`` or ``(n_paths, d)`` (one path per row).
        steps: kept steps per path (>= 1); the start itself is not returned.
        chol: ``(d, d)`` lower-triangular factor of the shock covariance.
        residuals: ``(m, d)`` fitted residuals to resample.
        rng: a ``numpy.random.Generator`` or a seed.
        burn: steps simulated and dropped first.

    Returns:
        ``(n_paths, steps, d)`` (``(steps, d)`` when ``start`` is 1-D).

    Raises:
        ValueError: shapes that do not match, both or neither of ``chol``/``residuals``,
            non-finite values.
    """
    c = np.asarray(intercept, dtype=float)
    a = np.asarray(coef, dtype=float)
    x = np.asarray(start, dtype=float)
    if c.ndim != 1 or a.shape != (len(c), len(c)):
        raise ValueError(f"intercept must be (d,) and coef (d, d); got {c.shape} and {a.shape}")
    single = x.ndim == 1
    x = np.atleast_2d(x)
    if x.ndim != 2 or x.shape[1] != len(c):
        raise ValueError(f"start must be (d,) or (n_paths, d) with d = {len(c)}; got {np.shape(start)}")
    if (chol is None) == (residuals is None):
        raise ValueError("pass exactly one of chol (Gaussian shocks) and residuals (bootstrap)")
    shock = np.asarray(chol if chol is not None else residuals, dtype=float)
    name = "chol" if chol is not None else "residuals"
    if shock.ndim != 2 or shock.shape[1] != len(c) or (chol is not None and shock.shape[0] != len(c)):
        raise ValueError(f"{name} has shape {shock.shape}; expected (d, d) or (m, d) with d = {len(c)}")
    for label, arr in (("intercept", c), ("coef", a), ("start", x), (name, shock)):
        if not np.isfinite(arr).all():
            raise ValueError(f"{label} contains NaN or infinite values")
    steps = _check_int("steps", steps, 1)
    burn = _check_int("burn", burn, 0)
    rng = np.random.default_rng(rng)
    out = np.empty((len(x), burn + steps, len(c)))
    for t in range(burn + steps):
        if chol is not None:
            e = rng.standard_normal(x.shape) @ shock.T
        else:
            e = shock[rng.integers(0, len(shock), len(x))]
        x = c + x @ a.T + e
        out[:, t] = x
    out = out[:, burn:]
    return out[0] if single else out
