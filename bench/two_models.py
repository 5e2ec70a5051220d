"""Does a second dense list earn its embedding time? A measurement, not a feature (issue 11, item 2).

Usage: python bench/two_models.py SET=E5_INDEX:DATASET:SECOND_INDEX ... [--weights 0,0.3,0.6,1] [--kinds]

Each set's default index (e5-small) is searched as usual; the semantic list becomes the
interpolation of its own scores and those of the same passages in a second index of the same
corpus built with another model (`--model m3e-small`), the second weighted w (0: e5 alone). The
fused semantic list then enters hybrid fusion with keyword as usual. Prints nDCG@10 in hybrid and
semantic mode per set (and query kind) for each w.
"""
from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from search import fusion  # noqa: E402
from search.engine import Engine, SearchSettings  # noqa: E402
from search.hits import Hit, Ranked  # noqa: E402

from tune import load_sets, per_query_ndcg, set_figures  # noqa: E402


def with_second(engine: Engine, second: Engine, weight: float) -> None:
    """Make `engine`'s semantic list the weighted interpolation of its own and `second`'s."""
    own = Engine._semantic_search.__get__(engine)

    def both(parsed, depth, filters):
        first = own(parsed, depth, filters)
        if weight <= 0:
            return first
        other = Engine._semantic_search.__get__(second)(parsed, depth, filters)
        fused = fusion.interpolate({"a": first.hits, "b": other.hits}, {"a": 1.0, "b": weight})
        return Ranked([Hit(f.passage_id, f.score) for f in fused[:depth]], max(first.total, other.total))

    engine._semantic_search = both


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("sets", nargs="+", help="NAME=E5_INDEX:DATASET:SECOND_INDEX")
    ap.add_argument("--weights", default="0,0.3,0.6,1")
    ap.add_argument("--kinds", action="store_true")
    ap.add_argument("--semantic-weights", default=None, metavar="LIST",
                    help="also vary SearchSettings.semantic_weight (hybrid fusion), e.g. 1,1.5,2")
    ap.add_argument("--second-sentences", type=float, default=None, metavar="W",
                    help="sentence weight of the second index (0: its passage vectors alone, as the indexer's "
                         "second model builds it; default: the index's own)")
    args = ap.parse_args()
    specs, seconds = [], {}
    for spec in args.sets:
        name, _, rest = spec.partition("=")
        head, _, second = rest.rpartition(":")
        specs.append(f"{name}={head}")
        seconds[name] = Engine(second)
        if args.second_sentences is not None:
            seconds[name].semantic.sentence_weight = args.second_sentences
    sets = load_sets(specs)
    semantic_weights = [float(x) for x in args.semantic_weights.split(",")] if args.semantic_weights else [None]
    for w, sw in [(w, sw) for w in [float(x) for x in args.weights.split(",")] for sw in semantic_weights]:
        for mode in ("hybrid", "semantic") if sw is None else ("hybrid",):
            figures = {}
            for name, engine, queries, judge in sets:
                if sw is not None:
                    engine.settings = replace(SearchSettings(), semantic_weight=sw)
                with_second(engine, seconds[name], w)
                figures.update(set_figures(name, per_query_ndcg(engine, queries, judge, mode), queries, args.kinds))
            mean = statistics.mean(figures[name] for name, *_ in sets)
            print(f"w={w:.1f}{'' if sw is None else f' semantic_weight={sw}'} {mode:8s} mean {mean:.4f}  " + "  ".join(f"{k} {v:.4f}" for k, v in figures.items()),
                  flush=True)


if __name__ == "__main__":
    main()
