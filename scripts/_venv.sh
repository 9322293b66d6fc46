# Sourced by the scripts: make sure .venv exists and holds this package with its dev extras.
# Re-installs only when pyproject.toml changed (a stamp file keyed by its hash).
VENV="${VENV:-$PWD/.venv}"
PYTHON="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
    echo "creating $VENV" >&2
    "$PYTHON" -m venv "$VENV"
fi
_stamp="$VENV/.scaffold-installed-$(cksum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$_stamp" ]; then
    echo "installing scaffold and its dependencies into $VENV (first run only)" >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[dev]'
    rm -f "$VENV"/.scaffold-installed-*
    touch "$_stamp"
fi
export PATH="$VENV/bin:$PATH"
