"""``python -m podwhisperer``: the same as the ``podwhisperer`` command."""

from podwhisperer.cli import main

if __name__ == "__main__":
    main()
