"""The unit-file and env-file parsers: systemd.syntax quoting and continuations, shell assignments that
append options, malformed lines named with their line, and never a crash (Hypothesis)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from tlsaudit.pins.envfile import Word, parse, split_words
from tlsaudit.pins.settings import command_pins, java_pins, node_pins
from tlsaudit.pins.systemd import environment_assignments, exec_words, parse_unit

UNIT = """\
[Unit]
Description=demo ; not a comment here

# a comment
; another
[Service]
Environment="JAVA_OPTS=-Xmx1g -Djdk.tls.client.protocols=TLSv1" \\
# a comment inside the continuation is dropped
  PLAIN=yes
ExecStart=-/usr/bin/java $JAVA_OPTS \\
    -Dhttps.protocols=TLSv1 -jar "/opt/my app.jar"
garbage line
"""


def test_unit_directives_continuations_and_malformed_line() -> None:
    unit = parse_unit(UNIT, "/etc/systemd/system/demo.service")
    keys = [(d.section, d.key, d.source) for d in unit.directives]
    assert keys == [
        ("Unit", "Description", "/etc/systemd/system/demo.service:2"),
        ("Service", "Environment", "/etc/systemd/system/demo.service:7"),
        ("Service", "ExecStart", "/etc/systemd/system/demo.service:10"),
    ]
    assert unit.errors == ["/etc/systemd/system/demo.service:12: not a Key=Value line: garbage line"]
    env_value = unit.directives[1].value
    assignments, errors = environment_assignments(env_value, "u:7")
    assert errors == []
    assert {a.name: a.value for a in assignments} == {
        "JAVA_OPTS": "-Xmx1g -Djdk.tls.client.protocols=TLSv1",
        "PLAIN": "yes",
    }
    words, error = exec_words(unit.directives[2].value, "u:10", {a.name: a for a in assignments})
    assert error is None
    assert [w.text for w in words] == [
        "/usr/bin/java",
        "-Xmx1g",
        "-Djdk.tls.client.protocols=TLSv1",
        "-Dhttps.protocols=TLSv1",
        "-jar",
        "/opt/my app.jar",
    ]
    pins = command_pins("java", words)
    assert [(p.setting, p.value, p.source) for p in pins] == [
        ("-Djdk.tls.client.protocols", "TLSv1", "u:7"),  # the line of the variable, not of ExecStart
        ("-Dhttps.protocols", "TLSv1", "u:10"),
    ]


def test_environment_directive_errors_name_the_line() -> None:
    _, errors = environment_assignments('"A=1" NOEQUALS', "x.service:3")
    assert errors == ["x.service:3: Environment=: not a VARIABLE=VALUE assignment: NOEQUALS"]
    _, errors = environment_assignments('"A=1', "x.service:4")
    assert errors == ['x.service:4: Environment=: unterminated " quote']


def test_shell_fragment_appends_keep_each_option_with_its_line() -> None:
    text = (
        "#!/bin/sh\n"
        'JAVA_OPTS="$JAVA_OPTS -Djdk.tls.client.protocols=TLSv1"\n'
        'if [ -n "$X" ]; then\n'
        '  export CATALINA_OPTS="${JAVA_OPTS} -Dhttps.protocols=TLSv1.1\n'
        '     -Xss1m"\n'
        "fi\n"
        "JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/default}\n"
    )
    parsed = parse(text, "setenv.sh", "shell")
    assert parsed.errors == []
    env = parsed.env()
    assert env["JAVA_HOME"].value == "/usr/lib/jvm/default"
    pins = java_pins(env["CATALINA_OPTS"].words)
    assert [(p.setting, p.value, p.source) for p in pins] == [
        ("-Djdk.tls.client.protocols", "TLSv1", "setenv.sh:2"),
        ("-Dhttps.protocols", "TLSv1.1", "setenv.sh:4"),
    ]


def test_systemd_env_file_quotes_comments_and_malformed_lines() -> None:
    text = '# c\n; c\nA=\'single $NOT\'\nB="double \\"q\\""\nexport C=1\nthis is wrong\nD="open\n'
    parsed = parse(text, "/etc/default/x", "systemd")
    assert {a.name: a.value for a in parsed.assignments} == {"A": "single $NOT", "B": 'double "q"', "C": "1"}
    assert parsed.errors == [
        "/etc/default/x:6: not a VARIABLE=VALUE assignment: this is wrong",
        '/etc/default/x:7: unterminated " quote: D="open',
    ]


def test_node_options_before_the_script_only() -> None:
    words = [Word(w, "p") for w in ["--tls-min-v1.3", "server.js", "--tls-max-v1.2"]]
    assert [p.setting for p in node_pins(words)] == ["--tls-min-v1.3"]
    assert split_words("a 'b c' \"d\\te\"") == ["a", "b c", "d\te"]


_TEXT = st.text(alphabet=st.sampled_from(list("AB_=\"'\\ $#;[]\n{}:-xX.1\t")), max_size=200)


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_unit_parser_never_crashes_and_names_lines(text: str) -> None:
    unit = parse_unit(text, "f.service")
    lines = text.splitlines()
    for error in unit.errors:
        m = re.match(r"f\.service:(\d+): ", error)
        assert m is not None and 1 <= int(m.group(1)) <= len(lines)
    for d in unit.directives:
        assignments, errors = environment_assignments(d.value, d.source)
        exec_words(d.value, d.source, {a.name: a for a in assignments})
        assert all(e.startswith(d.source) for e in errors)


@settings(max_examples=300, deadline=None)
@given(_TEXT, st.sampled_from(["systemd", "environment", "shell"]))
def test_env_parser_never_crashes_and_names_lines(text: str, dialect: str) -> None:
    parsed = parse(text, "env", dialect)
    count = len(text.splitlines())
    for error in parsed.errors:
        m = re.match(r"env:(\d+): ", error)
        assert m is not None and 1 <= int(m.group(1)) <= count
    for a in parsed.assignments:
        assert re.fullmatch(r"[A-Za-z_]\w*", a.name)
        assert all(re.fullmatch(r"env:\d+", w.source) for w in a.words)
