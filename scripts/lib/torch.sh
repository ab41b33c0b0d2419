# Sourced by scripts/test-all: decides where the workspace venv gets torch from (the "torch tier").
#
# uv.lock takes torch (the CPU build) from a local wheel directory (the `opt-wheels` index of the root
# pyproject, /opt/wheels on the project's machines). A machine without that directory cannot install the
# locked torch, and `uv sync --locked` of the default groups fails there. So, by S3DLIO_TORCH (or --torch=):
#   auto   (default) the locked torch when its wheel is on this machine; otherwise no torch, and the tests
#          marked `torch` are deselected with a message saying how to enable them
#   index  the locked torch when its wheel is here; otherwise torch==<the locked version> from the package
#          index (S3DLIO_TORCH_INDEX_URL adds an index: https://download.pytorch.org/whl/cpu has the CPU build;
#          PyPI's Linux wheel is the CUDA build, about 3 GB with its nvidia packages)
#   skip   no torch, even where the wheel is here (a faster setup)
# Sets: TORCH_TIER (on|off), TORCH_SYNC_ARGS (extra `uv sync` arguments), TORCH_PIP_SPEC (non-empty: install
# this with `uv pip install` after the sync), TORCH_NOTE (one line for the summary), TORCH_HOWTO (how to enable).

s3dlio_torch_lock_info() {
  # Prints "registry <source>" and "wheel <path>" lines for the torch package of uv.lock.
  awk '
    /^\[\[package\]\]/ { in_torch = 0 }
    /^name = "torch"$/ { in_torch = 1 }
    in_torch && /^version = / { v = $3; gsub(/"/, "", v); print "version " v }
    in_torch && /^source = \{ registry = / { r = $0; sub(/.*registry = "/, "", r); sub(/".*/, "", r); print "registry " r }
    in_torch && /\{ path = "/ { p = $0; sub(/.*path = "/, "", p); sub(/".*/, "", p); print "wheel " p }
  ' "${1:-uv.lock}"
}

s3dlio_torch_plan() {
  local mode="${1:-auto}" info version="" registry="" wheel have_wheel=0 wheels=()
  case "$mode" in auto|index|skip) ;; *)
    echo "error: S3DLIO_TORCH / --torch must be auto, index or skip (got '$mode')" >&2; return 2;;
  esac
  info="$(s3dlio_torch_lock_info uv.lock)"
  while read -r key val; do
    case "$key" in
      version) version="$val";;
      registry) registry="$val";;
      wheel) wheels+=("$val"); [ -f "$val" ] && have_wheel=1;;
    esac
  done <<< "$info"
  TORCH_SYNC_ARGS=()
  TORCH_PIP_SPEC=""
  TORCH_HOWTO="S3DLIO_TORCH=index bash scripts/test-all   (torch==${version%%+*} from the package index; add S3DLIO_TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu for the CPU build)"
  if [ -z "$version" ]; then
    TORCH_TIER=off; TORCH_NOTE="uv.lock holds no torch: the tests marked 'torch' are deselected"; return 0
  fi
  if [ "$mode" = skip ]; then
    TORCH_TIER=off; TORCH_SYNC_ARGS=(--no-group torch)
    TORCH_NOTE="torch tier skipped (S3DLIO_TORCH=skip): the tests marked 'torch' are deselected"
    TORCH_HOWTO="unset S3DLIO_TORCH (or --torch=auto) to run them"
    return 0
  fi
  case "$registry" in
    http://*|https://*|"") have_wheel=1;;  # torch comes from a remote index: uv fetches it like any package
  esac
  if [ $have_wheel -eq 1 ]; then
    TORCH_TIER=on; TORCH_NOTE="torch $version from ${registry:-the lock}"; return 0
  fi
  TORCH_SYNC_ARGS=(--no-group torch)
  if [ "$mode" = index ]; then
    TORCH_TIER=on
    TORCH_PIP_SPEC="torch==${version%%+*}"
    TORCH_NOTE="torch ${version%%+*} from the package index${S3DLIO_TORCH_INDEX_URL:+ and $S3DLIO_TORCH_INDEX_URL} (no wheel in $registry; S3DLIO_TORCH=index)"
    return 0
  fi
  TORCH_TIER=off
  TORCH_NOTE="torch tier OFF: uv.lock takes torch $version (the CPU build) from $registry, which has no ${wheels[0]##*/} on this machine; the tests marked 'torch' are deselected"
}
