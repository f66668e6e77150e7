"""Secrets come from the environment, then .env, and are never shown whole."""

import pytest

from phi_course import settings

SECRET = "ghp_canary0123456789abcdefSECRET"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A working directory with its own .env, and a clean slate of variables."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(settings.NO_DOTENV_VAR, raising=False)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    settings.reload()
    yield tmp_path
    settings.reload()


def test_dotenv_supplies_a_secret(project):
    (project / ".env").write_text(f"GITHUB_TOKEN={SECRET}\n")
    assert settings.get_secret("GITHUB_TOKEN") == SECRET


def test_environment_wins_over_dotenv(project, monkeypatch):
    (project / ".env").write_text("GITHUB_TOKEN=from-dotenv-file\n")
    monkeypatch.setenv("GITHUB_TOKEN", SECRET)
    assert settings.get_secret("GITHUB_TOKEN") == SECRET


def test_blank_values_count_as_unset(project, monkeypatch):
    (project / ".env").write_text("GITHUB_TOKEN=\n")
    monkeypatch.setenv("GITHUB_TOKEN", "   ")
    assert settings.get_secret("GITHUB_TOKEN") is None


def test_no_dotenv_switch_ignores_the_file(project, monkeypatch):
    (project / ".env").write_text(f"GITHUB_TOKEN={SECRET}\n")
    monkeypatch.setenv(settings.NO_DOTENV_VAR, "1")
    settings.reload()
    assert settings.get_secret("GITHUB_TOKEN") is None


def test_a_malformed_line_does_not_hide_the_good_ones(project):
    (project / ".env").write_text(f"this line is not a setting\nGITHUB_TOKEN={SECRET}\n")
    assert settings.get_secret("GITHUB_TOKEN") == SECRET


def test_mask_never_shows_the_secret():
    shown = settings.mask(SECRET)
    assert SECRET not in shown and SECRET[4:12] not in shown
    assert shown.startswith("ghp_") and str(len(SECRET)) in shown
    assert settings.mask(None) == "(not set)"
    assert "short" not in settings.mask("short")


def test_quick_and_offline_switches(monkeypatch):
    monkeypatch.setenv(settings.QUICK_VAR, "1")
    monkeypatch.setenv(settings.OFFLINE_VAR, "no")
    assert settings.quick() and not settings.offline()


def test_cache_dir_is_created(tmp_path, monkeypatch):
    monkeypatch.setenv(settings.CACHE_VAR, str(tmp_path / "c"))
    assert settings.cache_dir().is_dir()


@pytest.mark.parametrize("url", [
    f"https://user:{SECRET}@models.example/v1",
    f"https://{SECRET}@models.example/v1",
    f"https://models.example/v1?api-key={SECRET}&x=1",
    f"https://models.example/v1?token={SECRET}",
])
def test_mask_url_hides_a_key_pasted_into_a_url(url):
    shown = settings.mask_url(url)
    assert SECRET not in shown and "models.example/v1" in shown
    assert settings.mask_url("http://127.0.0.1:8000/v1") == "http://127.0.0.1:8000/v1"


def test_an_env_file_that_cannot_be_read_is_explained(tmp_path):
    # As root a chmod cannot make a file unreadable; a folder in its place fails the same way.
    (tmp_path / "broken").mkdir()
    with pytest.raises(settings.DotenvError, match="cannot be read") as caught:
        settings._read_dotenv(tmp_path / "broken")
    assert str(tmp_path / "broken") in caught.value.what and "delete it" in caught.value.todo
