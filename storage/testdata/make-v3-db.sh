#!/usr/bin/env bash
# Writes storage/testdata/v3.db with the schema and data of taskbot with
# several lists, before share_counts kept each list's counts (commit
# 2ff422e): the story of make-v1-db.sh, then a second list imported from
# the same document as 省督察二轮, with one share of it reported done and
# one confirmed. The third argument names another file: v3-65ff687.db is
# the same story written by commit 65ff687 (share_counts by list, its
# triggers reading tasks). Run from the repository's root.
set -euo pipefail
bin=${1:?taskbot binary built from commit 2ff422e}
out=${3:-v3.db}
"$(dirname "$0")/make-v1-db.sh" "$bin" "$out"
db=storage/testdata/$out
export TASKBOT_CONFIG=testdata/progress-org.yaml
"$bin" import "${2:-../shared/seeds/xuchang-rectification-tasks.txt}" --list 省督察二轮 --db "$db" >/dev/null
run() { printf '%s\n' "$3" | "$bin" console --db "$db" --at "$1" --as "$2" >/dev/null; }
run 2021-10-08 李四 "progress 省督察二轮/共性6 @长葛市 完成 1 排查完成 https://example.gov.cn/l2"
run 2021-10-09 李四 "progress 省督察二轮/共性7 @长葛市 完成 1 台账已建立 https://example.gov.cn/l2b"
run 2021-10-10 督查室王五 "task 省督察二轮/共性7 确认 1 @长葛市"
