"""The runtime-kind descriptors are the one list every part reads."""

from __future__ import annotations

import tomllib

from click.testing import CliRunner

from tlsaudit.capture.profile_capture import DISPLAY_NAMES
from tlsaudit.cli import main
from tlsaudit.data import rules_dir
from tlsaudit.engine import RUNTIME_KINDS
from tlsaudit.facts import RUNTIME_DETAIL_FACTS
from tlsaudit.inspectors import INSPECTORS
from tlsaudit.runtime_kinds import KINDS, display_name


def test_every_part_reads_the_descriptors() -> None:
    names = [k.name for k in KINDS]
    assert list(INSPECTORS) == names and list(RUNTIME_KINDS) == names
    for kind in KINDS:
        assert INSPECTORS[kind.name].kind == kind.name
        assert kind.probe == "" or callable(kind.load_probe())
        for name in kind.details:
            assert name in RUNTIME_DETAIL_FACTS, name
    assert display_name("mono") == "Mono" and display_name("node") == "Node.js"
    assert set(DISPLAY_NAMES).isdisjoint(names)  # only clients that are no kind (browsers' profiles)


def test_every_kind_has_its_rules_file_and_its_rules_name_it() -> None:
    for kind in KINDS:
        path = rules_dir() / kind.rules_file
        rules = tomllib.loads(path.read_text(encoding="utf-8"))["rule"]
        assert rules and all(r.get("runtime_kind") in (None, kind.name) for r in rules), kind.name


def test_the_path_options_come_from_the_descriptors() -> None:
    help_text = CliRunner().invoke(main, ["runtimes", "--help"]).output
    for kind in KINDS:
        if kind.path_option is not None:
            assert kind.path_option.flag in help_text
    assert "--registry" in help_text and "--dotnet-config" in help_text
