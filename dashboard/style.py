"""The dashboard's stylesheet, inlined into its page (no asset files to package)."""

STYLE = """
body { font-family: system-ui, sans-serif; margin: 0; color: #1f2328; background: #f6f8fa; }
header { display: flex; justify-content: space-between; align-items: center;
  padding: 8px 20px; background: #24292f; }
header a { color: #fff; margin-right: 18px; text-decoration: none; font-weight: 600; }
.switch-key { color: #d0d7de; font-size: 13px; }
main { padding: 12px 20px 40px; }
h1 { font-size: 22px; margin: 8px 0 12px; }
h2 { font-size: 16px; margin: 0 0 8px; }
.panel { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: 12px;
  margin-bottom: 14px; }
table.grid { border-collapse: collapse; width: 100%; font-size: 13px; }
table.grid th, table.grid td { border-bottom: 1px solid #eaeef2; padding: 4px 8px;
  text-align: left; vertical-align: middle; }
.badge { color: #fff; border-radius: 10px; padding: 1px 8px; font-size: 12px; }
.notice { padding: 8px 12px; border-radius: 6px; background: #ddf4ff; margin: 6px 0; }
.notice-error { background: #ffebe9; }
.notice-ok { background: #dafbe1; }
.notice-empty { background: #f6f8fa; border: 1px dashed #d0d7de; }
.pager { display: flex; gap: 12px; margin-top: 8px; font-size: 13px; }
.pager-off { color: #8c959f; }
.subnav { display: flex; gap: 12px; margin: 4px 0 12px; }
.subnav a.active, a.active { font-weight: 700; }
.feature-links { display: flex; flex-wrap: wrap; gap: 8px; font-size: 13px; }
.feature-link.drifted { color: #cf222e; font-weight: 600; }
.two-columns { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
.filters { display: grid; grid-template-columns: 1fr 2fr 1fr; gap: 8px; margin-bottom: 12px; }
.narrow { max-width: 320px; margin-bottom: 8px; }
.scroll { max-height: 320px; overflow-y: auto; }
.log { background: #0d1117; color: #e6edf3; padding: 8px; max-height: 360px; overflow: auto;
  font-size: 12px; white-space: pre-wrap; }
.actions { display: flex; gap: 8px; margin-bottom: 8px; }
button.small { font-size: 12px; padding: 1px 6px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; font-size: 13px; }
dt { color: #57606a; }
dd { margin: 0; }
"""
