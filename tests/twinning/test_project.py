"""The project as a newcomer meets it: settings from the environment, the compose stack, the
bilingual home page."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.utils import translation

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    environment = {
        k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "REDIS_URL", "SECURE_SSL_REDIRECT"}
    }
    environment.update(DJANGO_SETTINGS_MODULE="twinning.settings", **env)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )


def test_manage_py_names_the_missing_secret_key():
    environment = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE"}}
    completed = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 1
    assert "SECRET_KEY must be set" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_secret_key_is_required_when_debug_is_off():
    completed = run_python("import django; django.setup()")
    assert completed.returncode != 0
    assert "SECRET_KEY must be set" in completed.stderr


def test_without_redis_tasks_run_eagerly_and_with_redis_they_do_not():
    code = "from django.conf import settings as s; print(s.CELERY_TASK_ALWAYS_EAGER, s.DEBUG)"
    assert run_python(code, DEBUG="1").stdout.split() == ["True", "True"]
    assert run_python(code, SECRET_KEY="x" * 60, REDIS_URL="redis://127.0.0.1:6379/0").stdout.split() == [
        "False",
        "False",
    ]


def test_production_settings_are_strict():
    code = (
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0, s.SECURE_SSL_REDIRECT)"
    )
    assert run_python(code, SECRET_KEY="x" * 60).stdout.split() == ["True", "True", "True", "True"]


def test_compose_runs_the_stack_this_project_defines():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) >= {"web", "worker", "beat", "postgres", "redis"}
    assert services["postgres"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:7")
    for name in ("web", "worker", "postgres", "redis"):
        assert "healthcheck" in services[name], name
    assert "pgdata" in compose["volumes"]
    assert any(volume.startswith("pgdata:") for volume in services["postgres"]["volumes"])

    web_command = " ".join(services["web"]["command"].split())
    module, _, application = web_command.split("gunicorn ")[1].split()[0].partition(":")
    assert (ROOT / (module.replace(".", "/") + ".py")).exists()
    assert application == "application"
    assert "manage.py migrate" in web_command
    for name in ("worker", "beat"):
        command = services[name]["command"].split()
        app_module = command[command.index("-A") + 1]
        assert (ROOT / app_module / "celery.py").exists()
        assert name in command
    queues = services["worker"]["command"].split("--queues")[1].split()[0].split(",")
    from django.conf import settings

    routed = {route["queue"] for route in getattr(settings, "CELERY_TASK_ROUTES", {}).values()}
    assert settings.CELERY_TASK_DEFAULT_QUEUE in queues
    assert routed <= set(queues)
    assert (ROOT / services["web"].get("build", ".") / "Dockerfile").exists()


def test_readme_starts_with_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme.split("make test")[0]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "direction"), [("en", "ltr"), ("ar", "rtl")])
def test_home_page_renders_in_both_languages(client, language, direction):
    response = client.get(f"/{language}/", follow=True)
    assert response.status_code == 200
    body = response.content.decode()
    assert f'<html lang="{language}" dir="{direction}">' in body
    with translation.override(language):
        sign_in = translation.gettext("Sign in")
    if language == "ar":
        assert sign_in != "Sign in", "the Arabic catalogue is not compiled"
    assert sign_in in body


def test_arabic_catalogue_exists_and_is_real():
    catalogue = (ROOT / "locale" / "ar" / "LC_MESSAGES" / "django.po").read_text()
    assert 'msgstr "تسجيل' in catalogue or "تسجيل الدخول" in catalogue


def test_a_worker_started_without_queue_options_takes_the_rollup_queue_too():
    """`celery -A twinning worker`, as docs and people type it, must compute rollups."""
    code = (
        "import django; django.setup(); from twinning.celery import app; "
        "print(' '.join(sorted(q.name for q in app.amqp.queues.consume_from.values())))"
    )
    completed = run_python(code, DEBUG="1", REDIS_URL="redis://127.0.0.1:6379/0")
    assert completed.stdout.split() == ["default", "rollups"], completed.stderr
    completed = run_python(code, DEBUG="1", REDIS_URL="redis://127.0.0.1:6379/0", CELERY_ROLLUP_QUEUE="rollups-b")
    assert completed.stdout.split() == ["default", "rollups-b"], completed.stderr


def test_a_short_secret_key_is_refused_when_debug_is_off():
    short = run_python("import django; django.setup()", SECRET_KEY="k" * 49)
    assert short.returncode != 0
    assert "SECRET_KEY must be at least 50 characters long when DEBUG is off (it has 49)" in short.stderr
    assert run_python("import django; django.setup()", SECRET_KEY="k" * 50).returncode == 0
    assert run_python("import django; django.setup()", SECRET_KEY="short", DEBUG="1").returncode == 0


def test_hsts_subdomains_and_preload_are_opt_in():
    code = (
        "from django.conf import settings as s; "
        "print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD)"
    )
    assert run_python(code, SECRET_KEY="k" * 60).stdout.split() == ["31536000", "False", "False"]
    opted_in = run_python(
        code,
        SECRET_KEY="k" * 60,
        SECURE_HSTS_SECONDS="600",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="1",
        SECURE_HSTS_PRELOAD="1",
    )
    assert opted_in.stdout.split() == ["600", "True", "True"]


def test_the_browsable_api_only_with_debug():
    code = "from django.conf import settings as s; print(*s.REST_FRAMEWORK['DEFAULT_RENDERER_CLASSES'])"
    assert run_python(code, SECRET_KEY="k" * 60).stdout.split() == ["rest_framework.renderers.JSONRenderer"]
    assert "rest_framework.renderers.BrowsableAPIRenderer" in run_python(code, DEBUG="1").stdout.split()


@pytest.mark.parametrize("opt_in", [False, True])
def test_the_deployment_check_passes_as_make_test_runs_it(opt_in):
    """`make test` runs `check --deploy --fail-level WARNING` with DEBUG off and a generated key."""
    ours = {"DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "SECURE_SSL_REDIRECT"}
    environment = {k: v for k, v in os.environ.items() if k not in ours}
    environment.update(DEBUG="0", SECRET_KEY=secrets.token_urlsafe(60), ALLOWED_HOSTS="twinning.example.org")
    if opt_in:
        environment.update(SECURE_HSTS_INCLUDE_SUBDOMAINS="1", SECURE_HSTS_PRELOAD="1")
    completed = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr


def test_the_embedded_demo_starts_without_warnings(tmp_path):
    """`make run` (SQLite, no services) migrates with the database checks on: a first run shows
    no warning about what PostgreSQL does and SQLite need not."""
    environment = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DJANGO_SETTINGS_MODULE"}}
    environment.update(DEBUG="1", DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}", REDIS_URL="")
    completed = subprocess.run(
        [sys.executable, "manage.py", "check", "--database", "default", "--fail-level", "WARNING"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert "no issues" in completed.stdout


def test_each_test_process_has_a_redis_database_its_celery_workers_keep():
    """Under pytest-xdist a test process moves to its own Redis database; a Celery worker it starts
    inherits that environment and must listen where its process sends tasks, not move again."""

    def redis_url(**env) -> list[str]:
        ours = {"REDIS_URL", "PYTEST_XDIST_WORKER", "TWINNING_TEST_REDIS_MOVED_FOR", "DJANGO_SETTINGS_MODULE"}
        environment = {k: v for k, v in os.environ.items() if k not in ours}
        environment.update(DJANGO_SETTINGS_MODULE="twinning.settings_test", PYTEST_XDIST_WORKER="gw1", **env)
        code = "import os; from django.conf import settings as s; print(s.REDIS_URL, os.environ['REDIS_URL'])"
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    assert redis_url(REDIS_URL="redis://127.0.0.1:6379") == ["redis://127.0.0.1:6379/2"] * 2
    assert redis_url(REDIS_URL="redis://127.0.0.1:6379/4") == ["redis://127.0.0.1:6379/6"] * 2
    # A worker started by that process: the moved URL and the mark, inherited.
    inherited = redis_url(REDIS_URL="redis://127.0.0.1:6379/2", TWINNING_TEST_REDIS_MOVED_FOR="gw1")
    assert inherited == ["redis://127.0.0.1:6379/2"] * 2


def test_compose_puts_nginx_in_front_of_gunicorn():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    proxy, web = services["proxy"], services["web"]
    assert proxy["image"].split(":")[0] == "nginx"  # the official image
    assert "web" in proxy["depends_on"]
    assert [port.split(":")[-1] for port in proxy["ports"]] == ["80"]
    assert "ports" not in web, "gunicorn is reached through the proxy only"
    mounted = {volume.split(":")[1]: volume.split(":")[0] for volume in proxy["volumes"]}
    assert mounted["/etc/nginx/nginx.conf"] == "./deploy/nginx.conf"
    assert (ROOT / "deploy" / "nginx.conf").exists()
    assert web["environment"]["PROXY_COUNT"] == "1"
    assert "BEHIND_TLS_PROXY" in web["environment"]


def test_the_proxy_config_limits_bodies_as_django_does_and_forwards_the_client():
    from django.conf import settings

    config = (ROOT / "deploy" / "nginx.conf").read_text()
    directives = [line.split("#")[0].strip() for line in config.splitlines()]
    active = [line for line in directives if line]
    (body_limit,) = [line for line in active if line.startswith("client_max_body_size")]
    size = body_limit.split()[1].rstrip(";")
    assert size.endswith("m") and int(size[:-1]) * 1024 * 1024 == settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    gunicorn_port = services_command_port()
    assert f"server web:{gunicorn_port};" in active
    for header in ("X-Forwarded-For $proxy_add_x_forwarded_for", "X-Forwarded-Proto $scheme", "Host $host"):
        assert f"proxy_set_header {header};" in active, header
    assert "listen 443 ssl;" in config and "listen 443 ssl;" not in active  # TLS ready, commented
    assert config.count("{") == config.count("}")


def services_command_port() -> str:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    command = " ".join(compose["services"]["web"]["command"].split())
    return command.split("--bind ")[1].split()[0].rsplit(":", 1)[1]
