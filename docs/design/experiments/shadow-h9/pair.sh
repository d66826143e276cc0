#!/bin/bash
# pair.sh scn n buildA buildB : paired per-seed log ratio B/A
sc=$1; n=$2; a=$3; b=$4
get(){ /work/wt-shadow/$1/tempus-sim /work/wt-shadow/tests/sim/$sc.scn --seeds $n | grep -v median | grep -o 'rms_us=[0-9.]*' | sed 's/rms_us=//'; }
paste <(get $a) <(get $b) | python3 -c "
import sys,math,statistics as S,random
r=[tuple(map(float,l.split())) for l in sys.stdin]
lr=[math.log(b/a) for a,b in r]
w=sum(1 for v in lr if v>0.01); bt=sum(1 for v in lr if v<-0.01); same=len(lr)-w-bt
m=S.mean(lr); se=S.stdev(lr)/math.sqrt(len(lr))
random.seed(1)
med=[S.median(random.choices([a for a,b in r],k=len(r))) for _ in range(2000)]
med.sort()
print('$sc $a->$b: worse %d better %d same %d; gmean ratio %.3f (+-%.3f se); median-of-ratios %.3f; bootstrap 90%% of $a median: %.0f..%.0f'%(w,bt,same,math.exp(m),se,math.exp(S.median(lr)),med[100],med[1900]))"
