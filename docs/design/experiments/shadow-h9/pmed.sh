#!/bin/bash
sc=$1; n=$2; a=$3; b=$4
get(){ /work/wt-shadow/$1/tempus-sim /work/wt-shadow/tests/sim/$sc.scn --seeds $n | grep -v median | grep -o 'rms_us=[0-9.]*' | sed 's/rms_us=//'; }
paste <(get $a) <(get $b) | python3 -c "
import sys,random,statistics as S
r=[tuple(map(float,l.split())) for l in sys.stdin]
random.seed(3); q=[]
for _ in range(4000):
    s=random.choices(r,k=len(r)); q.append(S.median([b for a,b in s])/S.median([a for a,b in s]))
q.sort()
A=sorted(a for a,b in r); B=sorted(b for a,b in r); m=len(r)//2
print('$sc $a->$b n=%d median ratio %.3f, paired-bootstrap 90%% CI %.3f..%.3f; sorted around the median A:'%(len(r),S.median(B)/S.median(A),q[200],q[3800]), [round(x) for x in A[m-3:m+4]], 'B:', [round(x) for x in B[m-3:m+4]])"
