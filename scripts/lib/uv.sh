# Sourced by the README's scripts: sets UV to a working uv binary, installing it if needed.
#
# `python3 -m pip install uv` puts the binary in the interpreter's bin/ (a pyenv version directory, a user
# site, ...), which is often not on PATH; so the scripts never rely on PATH after installing. Order:
#   1. $UV if the caller set it, 2. uv on PATH, 3. the repository's own copy in .tools/uv (a venv made
#   with the machine's python3, nothing installed into that python itself).
UV_VERSION="0.13.8"
s3dlio_find_uv() {
  if [ -n "${UV:-}" ] && "$UV" --version >/dev/null 2>&1; then return 0; fi
  if command -v uv >/dev/null 2>&1; then UV="$(command -v uv)"; return 0; fi
  local root venv py
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  venv="$root/.tools/uv"
  if [ ! -x "$venv/bin/uv" ]; then
    py="$(command -v python3 || command -v python || true)"
    if [ -z "$py" ]; then echo "error: python3 is needed to install uv (https://docs.astral.sh/uv/)" >&2; return 1; fi
    echo "uv is not installed: installing uv $UV_VERSION into $venv" >&2
    rm -rf "$venv"
    "$py" -m venv "$venv" >&2 || { echo "error: '$py -m venv' failed (Debian: apt install python3-venv)" >&2; return 1; }
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION" >&2 || {
      echo "error: could not install uv $UV_VERSION with pip" >&2; return 1; }
  fi
  UV="$venv/bin/uv"
}
s3dlio_find_uv || exit 1
export UV
export UV_PYTHON_DOWNLOADS=never
