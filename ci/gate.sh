#!/usr/bin/env bash
# The Terraform gate for any CI system: formatting, validation of every root module, and the auditor's
# static rules with a severity threshold. .github/workflows/terraform-gate.yml runs the same command
# lines (tests/test_pipeline_gate.py checks that they stay the same).
#
# Usage: ci/gate.sh [TF_DIR]            (default: $TF_DIR, else "terraform")
#
# Environment:
#   FAIL_ON       fail on rules of this severity or higher: low | medium | high | critical (default high)
#   SARIF         also write the findings as SARIF 2.1.0 to this file (for code-scanning UIs)
#   AUDIT         the auditor command (default: audit)
#   PYTHON        a Python that can import the auditor, to list the root modules (default: python3)
#   AUDIT_CONFIG  an audit.toml with rule thresholds and [[suppressions]] (optional)
#
# Without terraform on the PATH, fmt and validate are skipped with a line saying so; the scan always runs.
# `terraform init -backend=false` leaves a .terraform folder in each root module (run it on a checkout).
#
# Exit codes: 0 every step passed; 1 fmt or validate failed, or the auditor reported an error;
#             2 only the scan failed (a rule at or above FAIL_ON).
set -uo pipefail

TF_DIR="${1:-${TF_DIR:-terraform}}"
FAIL_ON="${FAIL_ON:-high}"
SARIF="${SARIF:-}"
AUDIT="${AUDIT:-audit}"
PYTHON="${PYTHON:-python3}"
AUDIT_CONFIG="${AUDIT_CONFIG:-}"
export TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1

errors=0
findings=0

step() { printf '\n==> %s\n' "$*"; }
run() { printf '+ %s\n' "$*"; "$@"; }
failed() { printf 'FAILED: %s\n' "$*"; errors=$((errors + 1)); }

if [ ! -d "$TF_DIR" ]; then
  printf 'gate: %s is not a directory\n' "$TF_DIR" >&2
  exit 1
fi
if ! command -v "$AUDIT" >/dev/null 2>&1; then
  printf 'gate: the auditor command %s is not on the PATH (pip install the auditor, or set AUDIT)\n' "$AUDIT" >&2
  exit 1
fi
config=()
if [ -n "$AUDIT_CONFIG" ]; then
  config=(--config "$AUDIT_CONFIG")
fi

if command -v terraform >/dev/null 2>&1; then
  step "terraform fmt ($TF_DIR)"
  run terraform fmt -check -recursive "$TF_DIR" || failed "terraform fmt: run 'terraform fmt -recursive $TF_DIR'"

  step "terraform validate (every root module under $TF_DIR)"
  roots=$("$PYTHON" -c 'import sys; from pathlib import Path; from auditor.scan.code import root_modules; print(*root_modules(Path(sys.argv[1])), sep="\n")' "$TF_DIR") || {
    printf 'gate: %s cannot list the root modules (set PYTHON to the interpreter that has the auditor)\n' "$PYTHON" >&2
    exit 1
  }
  for module in $roots; do
    run terraform -chdir="$module" init -backend=false -input=false -no-color >/dev/null || { failed "terraform init in $module"; continue; }
    run terraform -chdir="$module" validate -no-color || failed "terraform validate in $module"
  done
else
  step "terraform fmt and validate: SKIPPED (terraform is not on the PATH)"
fi

step "audit scan ($TF_DIR, fail on $FAIL_ON and above)"
if [ -n "$SARIF" ]; then
  run "$AUDIT" scan "$TF_DIR" ${config[@]+"${config[@]}"} --format sarif -o "$SARIF" || [ $? -eq 2 ] || failed "audit scan (SARIF)"
fi
run "$AUDIT" scan "$TF_DIR" ${config[@]+"${config[@]}"} --fail-on "$FAIL_ON"
case $? in
  0) ;;
  2) findings=1 ;;
  *) failed "audit scan" ;;
esac

if [ "$errors" -gt 0 ]; then
  printf '\ngate: FAILED (%d step(s) failed)\n' "$errors"
  exit 1
fi
if [ "$findings" -gt 0 ]; then
  printf '\ngate: FAILED (rules at or above %s failed)\n' "$FAIL_ON"
  exit 2
fi
printf '\ngate: passed\n'
