#!/usr/bin/env bash
# Enforces the import direction of STYLE.md §3: the core imports nothing of
# ours; store, notify and authenticators import only the core and templates;
# gateway (and gateway/mcp, the MCP adapter) never imports an adapter. A
# package may import its own subpackages, not its parent: gateway/mcp does
# not import gateway, nor gin, so that `sesame mcp` never builds the HTTP
# server. internal/testrig, the rig the tests share, may import every
# package (like cmd), and nothing but tests may import it. Test imports are
# exempt (.Imports leaves them out).
set -euo pipefail
cd "$(dirname "$0")/.."
mod=$(go list -m)
fail=0
while read -r pkg imports; do
  rel=${pkg#"$mod"}; rel=${rel#/}
  for imp in $imports; do
    if [ "$rel" = gateway/mcp ] && [ "$imp" = github.com/gin-gonic/gin ]; then
      echo "import rule: gateway/mcp must not import $imp" >&2
      fail=1
    fi
    case $imp in "$mod"|"$mod"/*) ;; *) continue ;; esac
    dep=${imp#"$mod"}; dep=${dep#/}
    [ -z "$dep" ] && dep=.
    case $dep in internal/testrig|internal/testrig/*)
      case $rel in internal/testrig|internal/testrig/*) ;; *)
        echo "import rule: ${rel:-sesame (root)} must not import $dep (only tests may)" >&2
        fail=1
        continue ;;
      esac ;;
    esac
    top=${rel%%/*}; [ -z "$rel" ] && top=.
    deptop=${dep%%/*}
    allowed=""
    case $top in
      .|templates) allowed="" ;;
      store|notify|authenticators) allowed=". templates" ;;
      gateway) allowed=". templates" ;;
      cmd) allowed="*" ;;
      internal) case $rel in internal/testrig|internal/testrig/*) allowed="*" ;; *) allowed=". templates" ;; esac ;;
      scripts) allowed="*" ;;
      *) allowed=". templates" ;;
    esac
    # A package may import its own subpackages.
    case $dep in "$rel"/*) [ -n "$rel" ] && continue ;; esac
    if [ "$allowed" = "*" ]; then continue; fi
    ok=0
    for a in $allowed; do [ "$deptop" = "$a" ] && ok=1; done
    if [ $ok = 0 ]; then
      echo "import rule: ${rel:-sesame (root)} must not import ${dep}" >&2
      fail=1
    fi
  done
done < <(go list -f '{{.ImportPath}} {{join .Imports " "}}' ./...)
if [ $fail = 0 ]; then echo "check-imports: ok"; fi
exit $fail
