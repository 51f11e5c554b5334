// Load unit: LOAD of INP or WGT. Pops c2l before (pop_next), runs the window loader into the
// input or weight buffer, pushes l2c after (push_next). The load unit has no previous stage:
// pop_prev or push_prev makes the instruction illegal. It retires an instruction by popping
// its command queue, so the queue head is always its oldest unfinished instruction.
`default_nettype none

module tessera_load (
    input  wire                     clk_i,
    input  wire                     rst_ni,
    input  wire                     clear_i,
    input  wire                     halt_i,
    // command queue
    input  wire [159:0]             cmd_i,
    input  wire                     cmd_empty_i,
    output wire                     cmd_pop_o,
    // tokens
    input  wire                     c2l_empty_i,
    output wire                     c2l_pop_o,
    input  wire                     l2c_full_i,
    output wire                     l2c_push_o,
    // DMA reader side (to the arbiter)
    output wire                     ar_valid_o,
    output wire [31:0]              ar_addr_o,
    output wire [7:0]               ar_len_o,
    input  wire                     ar_ready_i,
    input  wire                     r_valid_i,
    input  wire [BUS_BITS-1:0]      r_data_i,
    input  wire                     r_last_i,
    input  wire [1:0]               r_resp_i,
    output wire                     r_ready_o,
    output wire                     quiet_o,
    // buffers
    output wire                     inp_we_o,
    output wire [LOG_INP_DEPTH-1:0] inp_waddr_o,
    output wire [INP_BITS-1:0]      inp_wdata_o,
    output wire                     wgt_we_o,
    output wire [LOG_WGT_DEPTH-1:0] wgt_waddr_o,
    output wire [WGT_BITS-1:0]      wgt_wdata_o,
    // status
    output wire                     busy_o,
    output wire                     stall_o,
    output wire                     retire_o,
    output wire                     err_o,
    output wire [2:0]               err_code_o
);
`include "tessera_params.vh"

  localparam integer MAXW = (WGT_BITS > INP_BITS) ? WGT_BITS : INP_BITS;
  localparam [1:0] S_IDLE = 2'd0, S_POP = 2'd1, S_RUN = 2'd2, S_PUSH = 2'd3;

  reg [1:0] state_q, state_d;
  reg       stuck_q, stuck_d;

  wire [127:0] insn = cmd_i[127:0];
  wire pop_prev = insn[F_POP_PREV_LSB];
  wire pop_next = insn[F_POP_NEXT_LSB];
  wire push_prev = insn[F_PUSH_PREV_LSB];
  wire push_next = insn[F_PUSH_NEXT_LSB];
  wire is_wgt = insn[F_MEM_MEM_TYPE_LSB +: F_MEM_MEM_TYPE_W] == MEM_TYPE_WGT[2:0];
  wire go = !halt_i && !stuck_q;

  wire illegal = state_q == S_IDLE && go && !cmd_empty_i && (pop_prev || push_prev);
  wire can_pop = !pop_next || !c2l_empty_i;
  wire can_push = !push_next || !l2c_full_i;
  wire start = state_q == S_POP && go && can_pop;
  wire finish = state_q == S_PUSH && go && can_push;

  wire ld_done, ld_oor, ld_busy, ld_we;
  wire [SRAM_IDX_W-1:0] ld_waddr;
  wire [MAXW-1:0] ld_wdata;
  wire req_valid, req_ready, d_valid, d_ready, bus_err;
  wire [31:0] req_addr, req_beats;
  wire [BUS_BITS-1:0] d_data;

  always @* begin
    state_d = state_q;
    stuck_d = stuck_q;
    case (state_q)
      S_IDLE: if (go && !cmd_empty_i) begin
        if (illegal) stuck_d = 1'b1;
        else state_d = S_POP;
      end
      S_POP: if (start) begin
        if (ld_oor) stuck_d = 1'b1;
        else state_d = S_RUN;
      end
      S_RUN: if (ld_done) state_d = S_PUSH;
      default: if (finish) state_d = S_IDLE;
    endcase
  end

  always @(posedge clk_i) begin
    if (!rst_ni || clear_i) begin
      state_q <= S_IDLE;
      stuck_q <= 1'b0;
    end else begin
      state_q <= state_d;
      stuck_q <= stuck_d;
    end
  end

  tessera_loader #(.MAXW(MAXW)) u_loader (
    .clk_i(clk_i), .rst_ni(rst_ni), .clear_i(clear_i), .halt_i(halt_i),
    .start_i(start && !stuck_q),
    .sram_base_i(insn[F_MEM_SRAM_BASE_LSB +: F_MEM_SRAM_BASE_W]),
    .dram_base_i(insn[F_MEM_DRAM_BASE_LSB +: F_MEM_DRAM_BASE_W]),
    .y_size_i(insn[F_MEM_Y_SIZE_LSB +: F_MEM_Y_SIZE_W]),
    .x_size_i(insn[F_MEM_X_SIZE_LSB +: F_MEM_X_SIZE_W]),
    .x_stride_i(insn[F_MEM_X_STRIDE_LSB +: F_MEM_X_STRIDE_W]),
    .y_pad_0_i(insn[F_MEM_Y_PAD_0_LSB +: F_MEM_Y_PAD_0_W]),
    .y_pad_1_i(insn[F_MEM_Y_PAD_1_LSB +: F_MEM_Y_PAD_1_W]),
    .x_pad_0_i(insn[F_MEM_X_PAD_0_LSB +: F_MEM_X_PAD_0_W]),
    .x_pad_1_i(insn[F_MEM_X_PAD_1_LSB +: F_MEM_X_PAD_1_W]),
    .log_eb_i(is_wgt ? LOG_WGT_BYTES[3:0] : LOG_INP_BYTES[3:0]),
    .log_depth_i(is_wgt ? LOG_WGT_DEPTH[4:0] : LOG_INP_DEPTH[4:0]),
    .busy_o(ld_busy), .done_o(ld_done), .oor_o(ld_oor),
    .we_o(ld_we), .waddr_o(ld_waddr), .wdata_o(ld_wdata),
    .req_valid_o(req_valid), .req_addr_o(req_addr), .req_beats_o(req_beats),
    .req_ready_i(req_ready), .d_valid_i(d_valid), .d_data_i(d_data), .d_ready_o(d_ready)
  );

  tessera_dma_reader u_dma (
    .clk_i(clk_i), .rst_ni(rst_ni), .clear_i(clear_i), .halt_i(halt_i),
    .req_valid_i(req_valid), .req_addr_i(req_addr), .req_beats_i(req_beats),
    .req_ready_o(req_ready), .credit_i(16'hffff),
    .ar_valid_o(ar_valid_o), .ar_addr_o(ar_addr_o), .ar_len_o(ar_len_o),
    .ar_ready_i(ar_ready_i), .r_valid_i(r_valid_i), .r_data_i(r_data_i), .r_last_i(r_last_i),
    .r_resp_i(r_resp_i), .r_ready_o(r_ready_o), .d_valid_o(d_valid), .d_data_o(d_data),
    .d_ready_i(d_ready), .quiet_o(quiet_o), .bus_err_o(bus_err)
  );

  // the write target is fixed for the whole instruction (the head does not change until retire)
  reg is_wgt_q;
  always @(posedge clk_i) if (start) is_wgt_q <= is_wgt;

  wire unused_ok = &{1'b0, ld_busy, cmd_i[159:128], ld_waddr, 1'b0};

  assign cmd_pop_o = finish;
  assign c2l_pop_o = start && pop_next && !ld_oor;
  assign l2c_push_o = finish && push_next;
  assign inp_we_o = ld_we && !is_wgt_q;
  assign inp_waddr_o = ld_waddr[LOG_INP_DEPTH-1:0];
  assign inp_wdata_o = ld_wdata[INP_BITS-1:0];
  assign wgt_we_o = ld_we && is_wgt_q;
  assign wgt_waddr_o = ld_waddr[LOG_WGT_DEPTH-1:0];
  assign wgt_wdata_o = ld_wdata[WGT_BITS-1:0];
  assign busy_o = state_q == S_RUN;
  assign stall_o = (state_q == S_POP && !can_pop) || (state_q == S_PUSH && !can_push);
  assign retire_o = finish;
  assign err_o = illegal || (start && ld_oor) || bus_err;
  assign err_code_o = bus_err ? ERR_BUS_ERROR[2:0]
      : (illegal ? ERR_ILLEGAL_INSN[2:0] : ERR_OUT_OF_RANGE[2:0]);
endmodule

`default_nettype wire
