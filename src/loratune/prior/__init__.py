"""What earlier grids and studies say about LoRA configs, carried to a new domain or model.

A prior is a set of sources (a recorded grid, or a finished study): each is one domain on one
base model, its configs and their validation scores. Each source is normalised to its own
shortfall from its own best (points below the best config it trained), so a source at 99% and
one at 60% weigh alike, and modelled over config features (`prior.model`): the prior answers
for configs that no source trained (other ranks, learning rates, alphas), never by looking up
exact keys. Test scores are never read: a source row gives its config and validation score only.

    prior = build_prior({"smollm2-135m/legal": rows, ...})
    save_prior(prior, "prior.json"); prior = load_prior("prior.json")
    shortfall = prior.shortfall(space.configs())      # (sources, configs), points below best
    first = portfolio(shortfall, 3)                    # indices of the warm start's configs
"""

from loratune.prior.build import (
    SHIPPED,
    Prior,
    Source,
    build_prior,
    load_prior,
    save_prior,
    shipped_prior,
    source_from_records,
    source_from_rows,
)
from loratune.prior.model import PRIOR_FEATURES, portfolio, prior_features

__all__ = [
    "PRIOR_FEATURES",
    "SHIPPED",
    "Prior",
    "Source",
    "build_prior",
    "load_prior",
    "portfolio",
    "prior_features",
    "save_prior",
    "shipped_prior",
    "source_from_records",
    "source_from_rows",
]
