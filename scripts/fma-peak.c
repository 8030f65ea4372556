// The CPU's measured fp32 FMA peak, the denominator of `bench train/twin --peak-gflops`.
// Each thread runs 16 independent vector FMA chains (enough to hide the FMA latency on both pipes);
// GFLOP/s = 2 * lanes * FMAs / s. Build for the widest vectors the CPU has, then run on all cores:
//   gcc -O3 -funroll-all-loops -mavx512f -mfma -o fma-peak scripts/fma-peak.c -lpthread && ./fma-peak 2
//   gcc -O3 -funroll-all-loops -mavx2 -mfma -o fma-peak scripts/fma-peak.c -lpthread && ./fma-peak 2   (no AVX-512)
// (-O2 without unrolling keeps the chains in memory and reads less than half the peak.)
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static long ITERS = 200000000;
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
static void* run(void* arg){
#ifdef __AVX512F__
  __m512 a[16]; __m512 m=_mm512_set1_ps(0.999999f), c=_mm512_set1_ps(1e-7f);
  for(int i=0;i<16;i++) a[i]=_mm512_set1_ps(i);
  for(long k=0;k<ITERS;k++) for(int i=0;i<16;i++) a[i]=_mm512_fmadd_ps(a[i],m,c);
  float s=0; for(int i=0;i<16;i++) s+=_mm512_reduce_add_ps(a[i]);
#else
  __m256 a[16]; __m256 m=_mm256_set1_ps(0.999999f), c=_mm256_set1_ps(1e-7f);
  for(int i=0;i<16;i++) a[i]=_mm256_set1_ps(i);
  for(long k=0;k<ITERS;k++) for(int i=0;i<16;i++) a[i]=_mm256_fmadd_ps(a[i],m,c);
  float s=0; float o[8]; for(int i=0;i<16;i++){_mm256_storeu_ps(o,a[i]); for(int j=0;j<8;j++) s+=o[j];}
#endif
  *(float*)arg=s; return NULL;
}
int main(int argc,char**argv){
  int n=argc>1?atoi(argv[1]):2; if(argc>2) ITERS=atol(argv[2]);
  pthread_t t[64]; float r[64]; double t0=now();
  for(int i=0;i<n;i++) pthread_create(&t[i],0,run,&r[i]);
  for(int i=0;i<n;i++) pthread_join(t[i],0);
  double dt=now()-t0;
#ifdef __AVX512F__
  int lanes=16;
#else
  int lanes=8;
#endif
  printf("%d threads, %d lanes: %.1f GFLOP/s (%.2f s, check %g)\n",n,lanes,2.0*lanes*16*ITERS*n/dt/1e9,dt,r[0]);
}
