"""`python -m advml prepare`: build and verify every offline asset (run by the set-up)."""
import sys
import time


def main(argv):
    if argv != ["prepare"]:
        print("usage: python -m advml prepare", file=sys.stderr)
        return 2
    from . import assets, models
    from .runtime import configure_offline

    configure_offline()
    start = time.perf_counter()
    for name, loader in assets.LOADERS.items():
        loader()
        print(f"[advml] data {name}: ok", flush=True)
    models.prepare(log=lambda line: print(f"[advml] model {line}", flush=True))
    from .digits import digit_classifier
    print(f"[advml] model digit classifier: test accuracy {digit_classifier().test_accuracy:.3f}",
          flush=True)
    print(f"[advml] offline assets ready in {time.perf_counter() - start:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
