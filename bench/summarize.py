import sys,statistics as st,re
for f in sys.argv[1:]:
    rows={}
    hdr=None
    for line in open(f):
        p=line.split()
        if not p: continue
        if p[0]=='server' and 'rnd' in p: hdr=p; continue
        if hdr and len(p)>=len(hdr)-1 and p[1].isdigit():
            d=dict(zip(hdr,p))
            rows.setdefault(p[0],[]).append(d)
    if not hdr: continue
    ratio=[h for h in hdr if h.startswith('vs_')][0]
    print(f"## {f.split('/')[-1]}  ({ratio})")
    print("server       rps_med  ratio_med  srv_us/op_med  srv_us/op(min..max)  sys/op_med  rss_med")
    for s,rs in rows.items():
        g=lambda k: [float(r[k]) for r in rs]
        print(f"{s:12} {st.median(g('rps')):8.0f}  {st.median(g(ratio)):9.2f}  {st.median(g('srv_us/op')):13.2f}  {min(g('srv_us/op')):.2f}..{max(g('srv_us/op')):.2f}  {st.median(g('sys/op')) if 'sys/op' in hdr else float('nan'):10.2f}  {st.median(g('rss_MiB')):7.1f}")
