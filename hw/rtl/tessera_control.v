// Run control: the state software sees through CTRL/STATUS, the counters, and the watchdog.
//
//   IDLE --start--> RUN --all drained--> DONE --start--> RUN ...
//   RUN --unit error / watchdog--> ERROR (units halted; DMA engines drain the bus)
//   any state --soft reset (CTRL bit1)--> RESET (halted until the bus is quiet) --> IDLE
// A start is taken in IDLE and DONE only: after an error, software writes CTRL = 1<<1, polls
// CTRL until it reads 0 (busy stays set while the reset waits for the bus) and starts again. A start clears the units and the counters; counters count in RUN only,
// so they are frozen in DONE and ERROR. The watchdog raises WATCHDOG after `watchdog_i`
// cycles in RUN without progress of any unit (0 disables it); ERROR_PC is then the index of
// the oldest unfinished instruction. The first error wins; its code goes to STATUS.
`default_nettype none

module tessera_control (
    input  wire         clk_i,
    input  wire         rst_ni,
    input  wire         start_i,
    input  wire         soft_reset_i,
    input  wire [31:0]  watchdog_i,
    // unit state
    input  wire         drained_i,     // fetch done and every command queue empty
    input  wire         quiet_i,       // no AXI transaction outstanding
    input  wire         progress_i,    // some unit moved this cycle
    input  wire [3:0]   err_i,         // {store, compute, load, fetch}
    input  wire [11:0]  err_code_i,    // 3 bits each, same order
    input  wire [127:0] err_pc_i,      // 32 bits each, same order
    input  wire [31:0]  oldest_pc_i,
    // counter events
    input  wire [9:0]   events_i,      // busy/stall of load, compute, store, fetch; gemm; alu
    input  wire [1:0]   retired_i,     // instructions retired this cycle
    // to the units
    output wire         clear_o,
    output wire         fetch_start_o,
    output wire         halt_o,
    // to the register file
    output wire [2:0]   ctrl_o,        // {error, done, busy}
    output wire [31:0]  status_o,
    output wire [31:0]  cycles_o,
    output wire [31:0]  error_pc_o,
    output wire [351:0] counters_o,
    output wire         irq_o
);
`include "tessera_params.vh"

  localparam [2:0] S_IDLE = 3'd0, S_RUN = 3'd1, S_DONE = 3'd2, S_ERROR = 3'd3, S_RESET = 3'd4;

  reg [2:0]  state_q, state_d;
  reg [31:0] status_q, status_d;
  reg [31:0] error_pc_q, error_pc_d;
  reg [31:0] cycles_q;
  reg [31:0] wd_q;
  reg        clear_q, fetch_start_q;
  reg [31:0] cnt_q [0:10];

  wire accept_start = start_i && (state_q == S_IDLE || state_q == S_DONE);
  wire running = state_q == S_RUN && !clear_q && !fetch_start_q;
  wire wd_fire = running && watchdog_i != 32'd0 && wd_q >= watchdog_i;
  wire any_err = running && |err_i;

  reg [2:0]  first_code;
  reg [31:0] first_pc;
  always @* begin
    first_code = err_code_i[2:0];
    first_pc = err_pc_i[31:0];
    if (err_i[0]) begin
      first_code = err_code_i[2:0];
      first_pc = err_pc_i[31:0];
    end else if (err_i[1]) begin
      first_code = err_code_i[5:3];
      first_pc = err_pc_i[63:32];
    end else if (err_i[2]) begin
      first_code = err_code_i[8:6];
      first_pc = err_pc_i[95:64];
    end else begin
      first_code = err_code_i[11:9];
      first_pc = err_pc_i[127:96];
    end
  end

  always @* begin
    state_d = state_q;
    status_d = status_q;
    error_pc_d = error_pc_q;
    case (state_q)
      S_IDLE, S_DONE: if (accept_start) begin
        state_d = S_RUN;
        status_d = 32'd0;
        error_pc_d = 32'd0;
      end
      S_RUN: begin
        if (any_err) begin
          state_d = S_ERROR;
          status_d = {29'd0, first_code};
          error_pc_d = first_pc;
        end else if (wd_fire) begin
          state_d = S_ERROR;
          status_d = ERR_WATCHDOG;
          error_pc_d = oldest_pc_i;
        end else if (running && drained_i) begin
          state_d = S_DONE;
        end
      end
      S_RESET: if (quiet_i) begin
        state_d = S_IDLE;
        status_d = 32'd0;
        error_pc_d = 32'd0;
      end
      default: ;
    endcase
    if (soft_reset_i) state_d = S_RESET;
  end

  integer k;
  always @(posedge clk_i) begin
    if (!rst_ni) begin
      state_q <= S_IDLE;
      status_q <= 32'd0;
      error_pc_q <= 32'd0;
      cycles_q <= 32'd0;
      wd_q <= 32'd0;
      clear_q <= 1'b0;
      fetch_start_q <= 1'b0;
      for (k = 0; k < 11; k = k + 1) cnt_q[k] <= 32'd0;
    end else begin
      state_q <= state_d;
      status_q <= status_d;
      error_pc_q <= error_pc_d;
      clear_q <= accept_start || (state_q == S_RESET && quiet_i);
      fetch_start_q <= clear_q && state_q == S_RUN;
      if (accept_start) begin
        cycles_q <= 32'd0;
        wd_q <= 32'd0;
        for (k = 0; k < 11; k = k + 1) cnt_q[k] <= 32'd0;
      end else if (state_q == S_RUN) begin
        if (cycles_q != 32'hffffffff) cycles_q <= cycles_q + 32'd1;
        wd_q <= progress_i ? 32'd0 : wd_q + 32'd1;
        for (k = 0; k < 10; k = k + 1)
          if (events_i[k]) cnt_q[k] <= cnt_q[k] + 32'd1;
        cnt_q[10] <= cnt_q[10] + {30'd0, retired_i};
      end
    end
  end

  genvar g;
  generate
    for (g = 0; g < 11; g = g + 1) begin : g_cnt
      assign counters_o[g*32 +: 32] = cnt_q[g];
    end
  endgenerate

  assign clear_o = clear_q;
  assign fetch_start_o = fetch_start_q;
  assign halt_o = state_q == S_ERROR || state_q == S_RESET;
  // busy also while a soft reset waits for the bus: software polls CTRL until it reads 0
  assign ctrl_o = {state_q == S_ERROR, state_q == S_DONE,
                   state_q == S_RUN || state_q == S_RESET};
  assign status_o = status_q;
  assign cycles_o = cycles_q;
  assign error_pc_o = error_pc_q;
  assign irq_o = state_q == S_DONE || state_q == S_ERROR;
endmodule

`default_nettype wire
