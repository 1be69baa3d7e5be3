"""``python -m graphc.printing FILE.pkl [--svg OUT] [--html OUT]``.

Loads a pickled compiled function, prints its optimized graph with ``debugprint``
and, when asked, writes the SVG drawing and the before/after HTML page.
"""
import argparse
import pickle
import sys

from graphc.printing import debugprint, pydotprint, to_html


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m graphc.printing",
        description="Dump a pickled graphc function: debugprint text, SVG, HTML.")
    parser.add_argument("pickle", help="file written by pickle.dump(f, ...)")
    parser.add_argument("--svg", metavar="OUT", help="write the optimized graph as SVG")
    parser.add_argument("--html", metavar="OUT",
                        help="write an HTML page with the graph before and after rewriting")
    parser.add_argument("--print-type", action="store_true", help="show each type")
    parser.add_argument("--unoptimized", action="store_true",
                        help="print (and draw) the graph before rewriting")
    args = parser.parse_args(argv)
    # Unpickling runs code from the file: only open files you trust.
    with open(args.pickle, "rb") as handle:
        function = pickle.load(handle)
    which = "unoptimized" if args.unoptimized else "optimized"
    debugprint(function, print_type=args.print_type, which=which)
    if args.svg:
        print(f"wrote {pydotprint(function, args.svg, which=which)}", file=sys.stderr)
    if args.html:
        print(f"wrote {to_html(function, args.html)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
