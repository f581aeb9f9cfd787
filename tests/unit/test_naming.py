import pytest

from app.core.errors import UsageError
from app.core.naming import archive_ref, branch_name, repo_key, slugify, unique_names, validate_name


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Fix the login bug!", "fix-login-bug"),
        ("Ünïcödé façade café", "unicode-facade-cafe"),
        ("a/b\\c:d", "b-c-d"),
        ("🚀🚀", "agent"),
        ("Refactor payments into many many small functions", "refactor-payments-into-many"),
    ],
)
def test_slugify_makes_safe_names(text: str, slug: str) -> None:
    assert slugify(text) == slug
    assert validate_name(slug) == slug


@pytest.mark.parametrize(
    "bad", ["my agent", "café", "feature/x", "-dash", "a..b", "x.lock", "", "a" * 64]
)
def test_invalid_names_are_refused_with_a_suggestion(bad: str) -> None:
    with pytest.raises(UsageError, match="invalid agent name") as exc:
        validate_name(bad)
    assert "for example" in str(exc.value)


def test_unique_names_number_collisions() -> None:
    assert unique_names("fix", 1, [], explicit=False) == ["fix"]
    assert unique_names("fix", 3, ["fix-2"], explicit=False) == ["fix-1", "fix-3", "fix-4"]
    assert unique_names("fix", 1, ["fix"], explicit=False) == ["fix-2"]
    with pytest.raises(UsageError, match="already exists"):
        unique_names("fix", 1, ["fix"], explicit=True)


def test_derived_names() -> None:
    assert branch_name("qd/", "x") == "qd/x"
    assert archive_ref("x") == "refs/quarterdeck/archive/x"
    key = repo_key("/home/u/my repo")
    assert key.startswith("my-repo-") and key == repo_key("/home/u/my repo")
    assert repo_key("/a/r") != repo_key("/b/r")
