# Sourced by the checks that need the real Python packages: sets $venv to the cached virtual
# environment of launch/python_env.sh (made on first use), or ends the check: exit 77 (CTest:
# skipped) only when the Python package registry cannot be reached, exit 1 when the
# environment cannot be made for another reason. Needs $root (the repository); $1 names the
# packages the check needs, for the skip line.
set +e
venv=$("$root/launch/python_env.sh")
rc=$?
set -e
if ((rc == 3)); then
  echo "skipped: the Python package registry is unreachable, so $1 cannot be installed"
  exit 77
fi
((rc == 0)) || { echo "$(basename "$0"): launch/python_env.sh failed (exit $rc)" >&2; exit 1; }
