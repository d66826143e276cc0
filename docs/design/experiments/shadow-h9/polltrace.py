import csv,sys,math
def load(f):
    return [x for x in csv.DictReader(open(f)) if not x['t_s'].startswith('summary')]
for name in sys.argv[1:]:
    r=load(name)
    print(name)
    lastpk=0
    out=[]
    for row in r:
        t=float(row['t_s']); pk=int(row['packets']); p=int(row['poll_log2'])
        if pk!=lastpk:
            out.append(f"{t:.0f}:{p}:{float(row['offset_s'])*1e6:.0f}:{float(row['freq_err_ppm']):.3f}")
            lastpk=pk
    print(' '.join(out))
    for h in range(12):
        seg=[float(x['offset_s']) for x in r if h*1800<=float(x['t_s'])<(h+1)*1800]
        print(h/2, round(math.sqrt(sum(v*v for v in seg)/len(seg))*1e6,1), end='; ')
    print()
