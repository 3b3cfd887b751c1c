#!/usr/bin/env bash
# Writes storage/testdata/v1.db with the schema and data of taskbot before
# per-unit shares (commit 6d0aab2): entries, decisions, bindings, reminders.
# make-v2-db.sh runs the same story with a later binary into another file
# (the second argument, default v1.db). Run from the repository's root.
set -euo pipefail
bin=${1:?taskbot binary built from the previous version}
out=${2:-v1.db}
db=$(mktemp -d)/$out
export TASKBOT_CONFIG=testdata/progress-org.yaml
run() { printf '%s\n' "$3" | "$bin" console --db "$db" --at "$1" --as "$2" >/dev/null; }
run 2021-09-20 李四 "progress 6 @长葛市 60% 调查核查进行中 https://example.gov.cn/a.pdf"
run 2021-09-21 张三 "progress 6 申请延期 1 2022-01-31 调查范围扩大"
run 2021-09-22 督查室王五 "task 6 批准延期 1"
run 2021-09-23 U0000ZS01 "progress 6 申请延期 2 2023-06-30 资金未到位"
run 2021-09-24 U0000SUP1 "task 6 驳回延期 2 理由不充分"
run 2021-09-25 李四 "progress 9 @禹州市 完成 1 台账已建立 https://example.gov.cn/t9"
run 2021-09-26 督查室王五 "unit bind 市水利局 U0000SL001"
run 2021-09-27 李四 "progress 7 @长葛市 完成 1 排查台账已建立"
run 2021-12-20 张三 "progress 6 完成 1 方案已制定 https://example.gov.cn/plan
progress 6 申请销号 全部完成 https://example.gov.cn/final"
run 2021-12-21 U0000SUP1 "task 6 退回 缺少监测报告"
run 2021-12-22 督查室王五 "task 8 销号 1"
"$bin" remind --db "$db" --at 2021-09-23 >/dev/null
cp "$db" "storage/testdata/$out"
