from xmppterm.domain.commands import Command, ParseError, PlainText, complete, help_lines, parse


def test_plain_text_and_escaped_slash() -> None:
    assert parse("hello") == PlainText("hello")
    assert parse("//etc/passwd is a path") == PlainText("/etc/passwd is a path")


def test_msg_with_and_without_text() -> None:
    assert parse("/msg bob@example.org") == Command("msg", ("bob@example.org",))
    assert parse("/msg bob@example.org hi  there ") == Command("msg", ("bob@example.org", "hi  there"))


def test_me_keeps_the_whole_line() -> None:
    assert parse("/me waves at you") == Command("me", ("waves at you",))


def test_errors_say_what_to_do() -> None:
    unknown = parse("/frobnicate")
    assert isinstance(unknown, ParseError) and "/help" in unknown.message
    usage = parse("/query")
    assert isinstance(usage, ParseError) and "/query JID" in usage.message
    assert isinstance(parse("/close now"), ParseError)
    assert isinstance(parse('/query "unterminated'), ParseError)


def test_case_insensitive_names() -> None:
    assert parse("/QUIT") == Command("quit", ())


def test_completion_and_help() -> None:
    assert complete("/q") == ["/query", "/quit"]
    assert complete("/msg x") == []
    assert any("/msg JID" in line for line in help_lines())
    assert "No command" in help_lines("nope")[0]
