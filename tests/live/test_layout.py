"""app/live/ stays a package a newcomer reads module by module."""

from pathlib import Path

LIVE = Path(__file__).parent.parent.parent / "app" / "live"


def test_every_module_of_the_live_layer_is_under_250_lines() -> None:
    sizes = {str(p.relative_to(LIVE)): len(p.read_text().splitlines()) for p in LIVE.rglob("*.py")}

    assert len(sizes) >= 8
    assert {name: n for name, n in sizes.items() if n >= 250} == {}
