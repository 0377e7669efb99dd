"""Registry exports (`--registry FILE.reg`) read into the registry the dotnet inspector judges."""

from __future__ import annotations

from pathlib import Path

import pytest

from tlsaudit.engine import evaluate, load_ruleset
from tlsaudit.inspectors.dotnet import framework_facts
from tlsaudit.inspectors.regfile import RegFileError, parse_reg, read_reg_file
from tlsaudit.models import FindingStatus, Readiness

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "registry"
NETFX = r"HKLM\SOFTWARE\Microsoft\.NETFramework\v4.0.30319"


def test_utf16_export_with_both_views_and_every_value_type() -> None:
    raw = (SAMPLES / "win2016-netfx48-strong-crypto.reg").read_bytes()
    assert raw[:2] == b"\xff\xfe"  # as reg export writes it
    reg = read_reg_file(SAMPLES / "win2016-netfx48-strong-crypto.reg")
    assert reg.value(NETFX, "SchUseStrongCrypto", view="64") == 1
    assert reg.value(NETFX, "SchUseStrongCrypto", view="32") == 1  # from the WOW6432Node key
    assert reg.value(r"HKLM\SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full", "Release") == 528049
    current = r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion"
    assert reg.value(current, "CurrentMajorVersionNumber") == 10
    assert reg.value(current, "InstallTime") == int.from_bytes(bytes.fromhex("2ac15e515b9ad501"), "little")
    assert reg.value(current, "PathName") == "C:\\Windows"
    digital = reg.value(current, "DigitalProductId")
    assert (
        isinstance(digital, str)
        and digital.startswith("a4000000")
        and digital.endswith("3431000000")
        and len(digital) == 2 * 52
    )


def test_export_feeds_the_framework_rules() -> None:
    reg = read_reg_file(SAMPLES / "win2012r2-netfx452-no-optin.reg")
    [rt] = framework_facts(reg)
    assert rt.version == "4.5.2" and rt.details["framework_release"] == 379893
    assert rt.details["registry_tls_opt_in"] is False
    evaluation = evaluate(load_ruleset("sage-intacct-2018"), runtimes=[rt])
    fired = {f.rule_id for f in evaluation.findings if f.status == FindingStatus.FAIL}
    assert "runtime.dotnet.framework-4.5-tls12-off" in fired
    assert evaluation.readiness[rt.subject] == Readiness.READY_WITH_CONFIG


def test_opt_in_in_both_views_makes_framework_ready() -> None:
    [rt] = framework_facts(read_reg_file(SAMPLES / "win2016-netfx48-strong-crypto.reg"))
    assert rt.version == "4.8" and rt.details["registry_tls_opt_in"] is True
    evaluation = evaluate(load_ruleset("sage-intacct-2018"), runtimes=[rt])
    assert evaluation.readiness[rt.subject] == Readiness.READY


def test_opt_in_in_one_view_only_and_schannel_switched_off() -> None:
    [rt] = framework_facts(read_reg_file(SAMPLES / "win7-schannel-tls12-off-wow-only.reg"))
    d = rt.details
    assert (d["sch_use_strong_crypto_64"], d["sch_use_strong_crypto_32"]) == (0, 1)
    assert d["registry_tls_opt_in"] is False  # a 64-bit application is not covered
    assert d["schannel_tls12_client_explicitly_disabled"] is True  # SYSTEM keys are seen by both views
    evaluation = evaluate(load_ruleset("sage-intacct-2018"), runtimes=[rt])
    fired = {f.rule_id for f in evaluation.findings if f.status == FindingStatus.FAIL}
    assert {
        "runtime.dotnet.schannel-tls12-client-disabled",
        "runtime.dotnet.framework-depends-on-app-target",
    } & fired


def test_utf8_regedit4_and_deletions() -> None:
    text = (
        "REGEDIT4\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319]\n"
        '"SchUseStrongCrypto"=dword:00000001\n"Gone"="x"\n"Gone"=-\n'
        "[-HKEY_LOCAL_MACHINE\\SOFTWARE\\Old]\n"
    )
    path_text = text.encode("utf-8")
    reg = parse_reg(path_text.decode(), "inline.reg")
    assert reg.value(NETFX, "SchUseStrongCrypto") == 1
    assert reg.value(NETFX, "Gone") is None


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("hello\n", 1, "not a registry export"),
        ('Windows Registry Editor Version 5.00\n\n"A"=dword:1\n', 3, "outside a [KEY]"),
        ('Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\X]\n"A"=dword:zz\n', 4, "bad dword"),
        ("Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\X\n", 3, "closing ']'"),
        ('Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\X]\n"A"=hex:0g,01\n', 4, "hex"),
        ("Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\X]\nnonsense\n", 4, "cannot read"),
        ('Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\X]\n"A"="open\n', 4, "unterminated"),
    ],
)
def test_malformed_exports_name_the_line(text: str, line: int, words: str) -> None:
    with pytest.raises(RegFileError) as info:
        parse_reg(text, "bad.reg")
    assert f"bad.reg:{line}:" in str(info.value) and words in str(info.value)


def test_utf16_without_bom_and_unreadable_files(tmp_path: Path) -> None:
    sample = (SAMPLES / "win2012r2-netfx452-no-optin.reg").read_bytes()[2:]
    (tmp_path / "nobom.reg").write_bytes(sample)
    assert read_reg_file(tmp_path / "nobom.reg").key_exists(NETFX, view="32")
    with pytest.raises(RegFileError, match="cannot read"):
        read_reg_file(tmp_path / "missing.reg")
