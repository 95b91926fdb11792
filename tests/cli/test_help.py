"""Every command's --help (of the installed scripts) has an example that parses as that
command; the README names every command, and every option it shows for one exists."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import click
import pytest

from distributor.cli import main as distributor
from resolver.cli import main as resolver
from tests.cli.support import script

README = (Path(__file__).parents[2] / "README.md").read_text()
GROUPS = {"resolver": resolver, "distributor": distributor}
GLOBAL = {"--home", "--help", "-h", "--version"}


def _commands(group: click.Group, path: list[str]) -> Iterator[tuple[list[str], click.Command]]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from _commands(command, [*path, name])
        else:
            yield [*path, name], command


COMMANDS = [*_commands(resolver, ["resolver"]), *_commands(distributor, ["distributor"])]
BY_PATH = {" ".join(path): command for path, command in COMMANDS}


def _options(command: click.Command) -> set[str]:
    return {o for p in command.params for o in [*p.opts, *p.secondary_opts] if o.startswith("-")}


@pytest.mark.parametrize(("argv", "command"), COMMANDS, ids=[" ".join(a) for a, _ in COMMANDS])
def test_help_has_an_example_that_parses_and_the_readme_shows_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str], command: click.Command
) -> None:
    run = script(argv[0], *argv[1:], "--help", cwd=tmp_path)
    assert run.code == 0, run
    assert "Example:" in run.out, run.out
    example = shlex.split(" ".join(run.out.split("Example:", 1)[1].split("Options:")[0].split()))
    assert example[: len(argv)] == argv, example
    monkeypatch.chdir(tmp_path)
    for word in example[len(argv) :]:  # the files an example names, for click to find
        if re.fullmatch(r"[\w-]+\.(csv|parquet)", word):
            (tmp_path / word).touch()
    state = SimpleNamespace(home_arg=None)
    command.make_context(argv[-1], example[len(argv) :], obj=state)  # raises unless it parses
    assert " ".join(argv) in {name for name, _ in _readme_lines()}, "not in the README"


def _readme_lines() -> Iterator[tuple[str, list[str]]]:
    """(command path, its options) for each command a README line of code shows; `a |
    b NAME` shows siblings."""
    for line in README.splitlines():
        found = re.match(r"\s*\.venv/bin/(resolver|distributor) (.*)", line)
        if not found:
            continue
        words = found.group(2).split("#")[0].replace("\\", " ")
        root, last = [found.group(1)], ""
        for n, piece in enumerate(words.split(" | ")):
            tokens = piece.split()
            if n == 0:
                path = [*root]
                for token in tokens:
                    if " ".join([*path, token]) in BY_PATH or any(
                        p.startswith(" ".join([*path, token]) + " ") for p in BY_PATH
                    ):
                        path.append(token)
                    else:
                        break
                root, last = path[:-1], path[-1]
            elif tokens and " ".join([*root, tokens[0]]) in BY_PATH:
                last = tokens[0]  # a sibling: `list | check NAME`
            name = " ".join([*root, last])  # else the same command's alternatives
            if name in BY_PATH:
                yield name, re.findall(r"(?<![\w-])--?[a-z][a-z-]*", piece)


def test_every_option_the_readme_shows_exists() -> None:
    shown = list(_readme_lines())
    assert len({name for name, _ in shown}) >= 20
    for name, options in shown:
        unknown = set(options) - _options(BY_PATH[name]) - GLOBAL
        assert not unknown, f"README shows {sorted(unknown)} for `{name}`"
