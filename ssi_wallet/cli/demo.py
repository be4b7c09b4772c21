"""``ssi-wallet demo``: the end-to-end immigration scenario, on the embedded default."""

from __future__ import annotations

import click

__all__ = ["demo"]


@click.command()
def demo() -> None:
    """Run the immigration scenario end to end and narrate each step."""
    from ssi_wallet.demo import run_demo

    run_demo(click.echo)
