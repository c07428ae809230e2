"""Shared infrastructure for the companion notebooks of *Generative AI for Trading and Asset
Management* (Medina Ruiz & Chan, Wiley 2025).

Modules (one concern each):

- :mod:`common.config`   quick mode, step budgets, seeding, device choice, threads, build folder
- :mod:`common.data`     named datasets (packaged and hash-pinned downloads), the data cache
- :mod:`common.prices`   live prices (yfinance), readers' CSV files, dates, validation, and the
  notebooks' data-source block (``load_price_source``)
- :mod:`common.checks`   ours vs a reference in one printed, asserting table; the scorecard
- :mod:`common.bookdata` parsers for the data files of the book's own companion repository
- :mod:`common.metrics`  returns and performance measures (Sharpe, drawdown, ...)
- :mod:`common.backtest` walk-forward and purged splits, a vectorized backtester with costs
- :mod:`common.options`  Black-Scholes prices and implied volatility
- :mod:`common.vix_futures` VX settlement calendar (exchange_calendars XCBF), CBOE VX file
  loader, simulated VX term structure
- :mod:`common.train`    the one GPU-aware PyTorch training loop
- :mod:`common.plotting` the house plotting style and shared plots
- :mod:`common.run`      the notebook runner behind ``python -m common run``
"""

__version__ = "0.1.0"
