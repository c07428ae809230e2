"""Shared infrastructure for the companion notebooks of *Generative AI for Trading and Asset
Management* (Medina Ruiz & Chan, Wiley 2025).

Modules (one concern each):

- :mod:`common.config`   quick mode, step budgets, seeding, device choice, threads, build folder
- :mod:`common.data`     named datasets (packaged and hash-pinned downloads), the data cache
- :mod:`common.prices`   live prices (yfinance) and the notebooks' data-source block
  (``load_price_source``); :mod:`common.price_csv` readers' CSV files and their validation;
  :mod:`common.dates` date parsing
- :mod:`common.checks`   ours vs a reference in one printed, asserting table; the scorecard
- :mod:`common.bookdata` parsers for the data files of the book's own companion repository
- :mod:`common.metrics`  returns and performance measures (Sharpe, drawdown, ...)
- :mod:`common.significance` tests of forecast and strategy differences (Diebold-Mariano)
- :mod:`common.backtest` walk-forward and purged splits, a vectorized backtester with costs
- :mod:`common.options`  Black-Scholes prices and implied volatility
- :mod:`common.vix_futures` VX settlement calendar (exchange_calendars XCBF), CBOE VX file
  loader, simulated VX term structure
- :mod:`common.train`    the one GPU-aware PyTorch training loop
- :mod:`common.forecasting` the chapter-5 forecasting protocol: windows, metrics, baselines,
  saved evaluations
- :mod:`common.transformer` attention, masks, Transformer blocks; :mod:`common.ssm` state-space
  layers (S4D, selective scan)
- :mod:`common.generative` the chapter-4 toolbox for scoring synthetic time series;
  :mod:`common.generator_results` the saved scores behind the chapter 6-8 generator table
- :mod:`common.vae` ELBO pieces; :mod:`common.regimes` HMM filtering without look-ahead;
  :mod:`common.flows` coupling layers and flows; :mod:`common.gan` the WGAN-GP penalty
- :mod:`common.text_classifier` the one fine-tuning recipe of chapters 9-10 (bundled MiniLM,
  frozen embeddings, fine-tuning, probabilities); :mod:`common.model_cache` trained models
  keyed by their settings and data; :mod:`common.phrasebank` Financial PhraseBank and its
  FinBERT split; :mod:`common.fomc` the FOMC hawkish/dovish data and press conferences;
  :mod:`common.speech` speech synthesis, Whisper weights, audio bars and the embargo join
- :mod:`common.plotting` the house plotting style and shared plots
- :mod:`common.run`      the notebook runner behind ``python -m common run``
"""

__version__ = "0.1.0"
