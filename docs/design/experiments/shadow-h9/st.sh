#!/bin/bash
# st.sh build scn nseeds -> median, mean, geomean rms, median packets
b=$1; sc=$2; n=$3
/work/wt-shadow/$b/tempus-sim /work/wt-shadow/tests/sim/$sc.scn --seeds $n | grep -v median | grep -o 'rms_us=[0-9.]*\|packets=[0-9]*' | paste - - | sed 's/rms_us=//;s/packets=//' | python3 -c "
import sys,statistics as S,math
r=[tuple(map(float,l.split())) for l in sys.stdin]
x=[a for a,b in r]; p=[b for a,b in r]
print('$sc $b n=%d median=%.1f mean=%.1f gmean=%.1f pk=%.0f'%(len(x),S.median(x),S.mean(x),math.exp(S.mean([math.log(v) for v in x])),S.median(p)))"
