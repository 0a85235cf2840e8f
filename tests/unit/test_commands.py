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


def test_room_commands_parse() -> None:
    assert parse("/join room@muc.example.org") == Command("join", ("room@muc.example.org",))
    assert parse('/join room@muc.example.org "two words" pw') == Command(
        "join", ("room@muc.example.org", "two words", "pw"))
    assert parse("/part see you later") == Command("part", ("see you later",))
    assert parse("/part") == Command("part", ())
    assert parse("/nick new nick") == Command("nick", ("new nick",))
    assert parse("/topic") == Command("topic", ())
    assert parse('/kick "John Doe" spam and more') == Command("kick", ("John Doe", "spam and more"))
    assert parse("/kick bob") == Command("kick", ("bob",))
    assert parse("/ban eve@evil.example go") == Command("ban", ("eve@evil.example", "go"))
    assert parse("/affiliation member bob") == Command("affiliation", ("member", "bob"))
    assert parse('/config name="A b" x=1') == Command("config", ("name=A b", "x=1"))
    assert parse("/create r@m.example a@x b@y") == Command("create", ("r@m.example", "a@x", "b@y"))
    assert parse("/joins fold") == Command("joins", ("fold",))


def test_room_commands_usage_errors() -> None:
    for line, usage in (("/join", "/join ROOM@SERVICE"), ("/kick", "/kick NICK"),
                        ("/affiliation member", "/affiliation member|admin|owner|none"),
                        ("/who x", "/who"), ("/joins", "/joins show|fold"),
                        ("/join a@b c d e", "/join ROOM@SERVICE")):
        error = parse(line)
        assert isinstance(error, ParseError) and usage in error.message, line


def test_room_commands_in_help_and_completion() -> None:
    assert complete("/jo") == ["/join", "/joins"]
    text = "\n".join(help_lines())
    for name in ("/join", "/part", "/nick", "/topic", "/who", "/invite", "/accept", "/decline",
                 "/create", "/config", "/kick", "/ban", "/voice", "/devoice", "/affiliation",
                 "/members", "/bookmark", "/joins"):
        assert name in text
