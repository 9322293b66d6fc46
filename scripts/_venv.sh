# Sourced by the scripts: make sure $VENV exists and holds this package (editable) with the
# extras in SCAFFOLD_EXTRAS (comma-separated; default "all,dev": everything, tests included).
# demo.sh asks for "all" only: what the demo runs, without the test tools, installs faster.
# Each extra is installed once per pyproject.toml content (a stamp file per extra, keyed by the
# file's hash): a later script that needs more installs only the difference.
VENV="${VENV:-$PWD/.venv}"
PYTHON="${PYTHON:-python3}"
_extras="${SCAFFOLD_EXTRAS:-all,dev}"
if [ ! -x "$VENV/bin/python" ]; then
    echo "creating $VENV" >&2
    "$PYTHON" -m venv "$VENV"
fi
_hash="$(cksum pyproject.toml | cut -d' ' -f1)"
_missing=""
for _extra in ${_extras//,/ }; do
    [ -f "$VENV/.scaffold-installed-$_hash-$_extra" ] || _missing="$_missing $_extra"
done
if [ -n "$_missing" ]; then
    # the stamps of an older pyproject.toml say nothing about this one
    find "$VENV" -maxdepth 1 -name '.scaffold-installed-*' ! -name ".scaffold-installed-$_hash-*" \
        -delete
    _want="$(echo $_missing | tr ' ' ,)"
    echo "installing scaffold[$_want] into $VENV (once; about a minute)" >&2
    _pip=("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input
          --progress-bar off)
    # Python 3.11's venv comes with pip 23.2, whose resolver spends minutes matching the ~80,000
    # files of the index pages of Prefect's ~120 dependencies; pip 25 does the same in seconds
    # (150 s -> 42 s for this install, measured): upgrading it first costs ~5 s.
    "${_pip[@]}" 'pip>=25'
    # pip compiles the .pyc files: with PYTHONDONTWRITEBYTECODE set (CI, containers) nothing
    # would write them later, and every `cli lint` would compile click, yaml... again (+0.4 s).
    # setuptools' notice about editable installs is not for the user.
    PYTHONWARNINGS="${PYTHONWARNINGS:-ignore}" "${_pip[@]}" -e ".[$_want]"
    for _extra in $_missing; do touch "$VENV/.scaffold-installed-$_hash-$_extra"; done
fi
unset _extras _hash _missing _extra _want _pip
export PATH="$VENV/bin:$PATH"
