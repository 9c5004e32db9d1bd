/** The length of the x-run of line `seq` of console-pipe-child.ts: 40 to 939 characters, none past PIPE_BUF. */
export const lineLength = (seq: number): number => 40 + ((seq * 7919) % 900);
